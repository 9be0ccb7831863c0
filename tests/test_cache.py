"""The step cache (spectype.cache): one folder per (step, settings), complete or absent."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spectype.cache import SETTINGS, settings_key, step


def test_settings_key_is_canonical():
    a = {"b": 1, "a": [1, 2], "x": np.float32(0.5)}
    assert settings_key(a) == settings_key({"a": [1, 2], "x": 0.5, "b": 1})
    assert settings_key(a) != settings_key({**a, "b": 2})
    assert len(settings_key(a)) == 16


def test_step_builds_once_and_reuses(tmp_path):
    calls = []

    def build(tmp):
        calls.append(tmp)
        (tmp / "out.txt").write_text("made")

    first = step(tmp_path, "demo", {"n": 1}, build)
    again = step(tmp_path, "demo", {"n": 1}, build)
    other = step(tmp_path, "demo", {"n": 2}, build)
    assert first == again != other and len(calls) == 2
    assert (first / "out.txt").read_text() == "made"
    assert json.loads((first / SETTINGS).read_text()) == {"n": 1}
    assert first.parent == tmp_path / "demo"


def test_a_failed_build_leaves_nothing_to_reuse(tmp_path):
    def broken(tmp):
        (tmp / "half.txt").write_text("half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        step(tmp_path, "demo", {"n": 1}, broken)
    assert not any((tmp_path / "demo").iterdir())
    folder = step(tmp_path, "demo", {"n": 1}, lambda tmp: (tmp / "ok.txt").write_text("ok"))
    assert sorted(p.name for p in folder.iterdir()) == ["ok.txt", SETTINGS]
