"""spectype.runtime: the data root never comes from the install location, devices, seeds,
JSON cleaning and packaged configs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from spectype import runtime
from spectype.errors import ConfigError


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("SPECTYPE_DATA", raising=False)
    monkeypatch.delenv("SPECTYPE_SHARED_DATA", raising=False)


def test_data_root_order(tmp_path, monkeypatch, no_env):
    work = tmp_path / "checkout"
    work.mkdir()
    monkeypatch.chdir(work)
    # Nothing set and no ../shared/data: the error names options that exist.
    with pytest.raises(ConfigError) as err:
        runtime.data_root()
    assert "--data-root" in str(err.value) and "SPECTYPE_DATA" in str(err.value)
    # The development layout, found from the current directory.
    (tmp_path / "shared" / "data").mkdir(parents=True)
    assert runtime.data_root() == (tmp_path / "shared" / "data").resolve()
    # The environment beats the layout, the explicit value beats both.
    monkeypatch.setenv("SPECTYPE_DATA", str(tmp_path / "env"))
    assert runtime.data_root() == tmp_path / "env"
    assert runtime.data_root(tmp_path / "cli") == tmp_path / "cli"


def test_data_root_is_not_derived_from_the_package(tmp_path, monkeypatch, no_env):
    monkeypatch.chdir(tmp_path)  # no ../shared/data from here
    with pytest.raises(ConfigError):
        runtime.data_root()
    from spectype.simulate import shared_data_root

    with pytest.raises(ConfigError):
        shared_data_root()


def test_no_machine_paths_or_parents_lookups_in_src():
    src = Path(runtime.__file__).parent
    bad = []
    for path in src.rglob("*.py"):
        text = path.read_text()
        for needle in ("/work/shared", "parents[3]", "--library-root"):
            if needle in text:
                bad.append(f"{path.relative_to(src)}: {needle}")
    assert not bad, bad


def test_resolve_device():
    import torch

    assert runtime.resolve_device("cpu") == torch.device("cpu")
    assert runtime.resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        runtime.resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            runtime.resolve_device("cuda:0")


def test_seed_everything_repeats_draws():
    import random

    import torch

    runtime.seed_everything(7)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    runtime.seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == a


def test_jsonable_is_strict_json():
    obj = {"a": np.float32(1.5), "b": np.arange(3), 3: [math.nan, np.inf, Path("x/y")], "c": (np.int64(2),)}
    out = runtime.jsonable(obj)
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == {"a": 1.5, "b": [0, 1, 2], "3": [None, None, "x/y"], "c": [2]}


def test_resolve_config(tmp_path, monkeypatch):
    assert "cnn1d_quick" in runtime.packaged_configs()
    monkeypatch.chdir(tmp_path)  # no configs/ here: names find the packaged files
    for name in ("cnn1d_quick", "cnn1d_quick.yaml", "configs/cnn1d_quick.yaml"):
        path = runtime.resolve_config(name)
        assert path.is_file() and path.name == "cnn1d_quick.yaml"
    own = tmp_path / "mine.yaml"
    own.write_text("epochs: 1\n")
    assert runtime.resolve_config(own) == own
    with pytest.raises(ConfigError, match="cnn1d_quick"):
        runtime.resolve_config("no_such_config")
    with pytest.raises(ConfigError):  # a typo in a path of one's own is not replaced
        runtime.resolve_config(tmp_path / "elsewhere" / "cnn1d_quick.yaml")
