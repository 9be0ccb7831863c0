"""The paper's split order as a dataset step, so its leak can be measured beside the honest one.

*Listening to Stars* replicates every class to 6000 spectra and *then* splits 8:1:1, so copies
of one spectrum sit in train and test. `spectype reproduce --split-order replicate-then-split`
trains each seed on a copy of the pack whose stored split was made that way (step
'replicate_then_split' of the step cache), instead of the grouped split the runner makes by
default (`split_seed = seed`, replication of the training rows only). Both orders then run the
same training and evaluation, so the difference between their tables is the leak.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cache import step
from ..datasets import SPLITS, Pack, replicate_then_split, write_pack
from ..errors import ConfigError

SPLIT_ORDERS = ("split-then-replicate", "replicate-then-split")


def replicate_then_split_pack(
    data: str | Path, pack_id: str, n_per_class: int, fractions, seed: int, cache_root: Path
) -> Path:
    """A copy of pack `data` whose stored split is replicate-then-split (seeded); cached."""
    if not n_per_class or n_per_class < 1:
        raise ConfigError(
            "--split-order replicate-then-split needs a count to replicate to: the profile's "
            "`balance` or --set balance=N"
        )
    settings = {"pack": pack_id, "n_per_class": int(n_per_class),
                "fractions": [float(f) for f in fractions], "seed": int(seed)}

    def build(tmp: Path) -> None:
        pack = Pack(data)
        rows = np.unique(np.concatenate([pack.indices(s) for s in SPLITS]))
        plan = replicate_then_split(pack.labels[rows], n_per_class, tuple(fractions), seed)
        write_pack(
            tmp / "pack.h5", pack.read_flux(np.arange(len(pack))),
            wavelength=pack.wavelength, labels=pack.labels, class_names=pack.class_names,
            indices={s: rows[plan.indices[s]] for s in SPLITS}, ids=pack.ids, paths=pack.paths,
            groups=pack.groups, index=pack.row_index, codes=pack.codes, snr_i=pack.snr_i,
            params={**pack.params, "split_order": "replicate-then-split", "split_seed": seed,
                    "balance": int(n_per_class)},
            notes=[*pack.notes, *plan.notes], leaky=True,
        )

    return step(cache_root, "replicate_then_split", settings, build) / "pack.h5"


__all__ = ["SPLIT_ORDERS", "replicate_then_split_pack"]
