"""Imports every model module under spectype.models so that each registers its builders."""

import importlib
import pkgutil

from .. import models as _pkg

_SKIP = {"registry", "zoo", "release"}

for _info in pkgutil.walk_packages(_pkg.__path__, prefix=_pkg.__name__ + "."):
    if _info.name.rsplit(".", 1)[-1] not in _SKIP:
        importlib.import_module(_info.name)
