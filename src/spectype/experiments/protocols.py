"""Paper protocols (which rows, which settings) read from YAML files in `protocols/`.

A protocol file holds:

    name, title, reference (where the numbers come from), metric
    rows:      row name -> {model, label, kwargs (always passed), takes (kwarg groups), paper,
                            augment (what a study adds to the training set, e.g. lcgan)}
    profiles:  profile name -> {description, extends (another profile, merged under this one),
                                train (TrainConfig fields), model_kwargs: {group -> kwargs},
                                study (settings of a study's own steps, e.g. the LCGAN pool),
                                test_epoch (best | last: which weights the test scores)}

A row receives `model_kwargs[g]` of the chosen profile for every group g in its `takes`
list (e.g. 'image' -> image_size, epsanet_layers), so a 1D CNN never sees image arguments.
`resolve(row, profile)` gives the model name, its kwargs and the TrainConfig fields.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError

PROTOCOL_DIR = "protocols"
TEST_EPOCHS = ("best", "last")


@dataclass
class Row:
    """One line of a paper table: a registered model and its fixed builder arguments."""

    name: str
    model: str
    label: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    takes: list[str] = field(default_factory=list)
    paper: str | None = None  # the paper's number as printed, e.g. "91.79 ± 0.11"
    augment: str | None = None  # a study's training-set variant (lcgan.yaml's arms)


@dataclass
class Profile:
    name: str
    description: str = ""
    train: dict[str, Any] = field(default_factory=dict)
    model_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)
    study: dict[str, Any] = field(default_factory=dict)
    # Which weights are tested: "best" (best validation epoch, best/) or "last" (the weights
    # training ended with, as the authors' code does).
    test_epoch: str = "best"


@dataclass
class Protocol:
    name: str
    title: str
    rows: dict[str, Row]
    profiles: dict[str, Profile]
    reference: str = ""
    source: Path | None = None

    def row_names(self, only: list[str] | None = None) -> list[str]:
        """All rows in file order, or `only` (checked, in the given order)."""
        if not only:
            return list(self.rows)
        unknown = [r for r in only if r not in self.rows]
        if unknown:
            raise ConfigError(
                f"protocol {self.name}: unknown rows {unknown}; rows are {list(self.rows)}"
            )
        return list(only)

    def resolve(self, row: str, profile: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(model name, model kwargs, TrainConfig fields) for `row` under `profile`."""
        if profile not in self.profiles:
            raise ConfigError(
                f"protocol {self.name}: unknown profile {profile!r}; "
                f"profiles are {list(self.profiles)}"
            )
        r = self.rows[self.row_names([row])[0]]
        prof = self.profiles[profile]
        kwargs = dict(prof.model_kwargs.get("all", {}))
        for group in r.takes:
            kwargs.update(prof.model_kwargs.get(group, {}))
        kwargs.update(r.kwargs)
        return r.model, kwargs, dict(prof.train)


def builtin_protocols() -> list[str]:
    """Names of the protocol files shipped with spectype ('table3', 'table4')."""
    folder = resources.files("spectype.experiments") / PROTOCOL_DIR
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _as_dict(value: Any, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
    return value


def _test_epoch(value, where: str) -> str:
    if value not in TEST_EPOCHS:
        raise ConfigError(f"{where}.test_epoch: {value!r}; use one of {', '.join(TEST_EPOCHS)}")
    return str(value)


def _merged(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _extended(profiles: dict, name: str, where: str, seen: tuple = ()) -> dict:
    """Profile `name` with its `extends` chain merged under it (nested mappings key by key)."""
    if name in seen:
        raise ConfigError(f"{where}: profiles extend each other in a loop: {' -> '.join((*seen, name))}")
    spec = _as_dict(profiles.get(name), f"{where}: profiles.{name}")
    parent = spec.get("extends")
    if parent is None:
        return spec
    if parent not in profiles:
        raise ConfigError(f"{where}: profile {name!r} extends unknown profile {parent!r}")
    own = {k: v for k, v in spec.items() if k not in ("extends", "description")}
    return _merged(_extended(profiles, str(parent), where, (*seen, name)), own) | {
        "description": spec.get("description", "")
    }


def load_protocol(name_or_path: str | os.PathLike) -> Protocol:
    """A built-in protocol by name ('table3', 'table4') or any protocol YAML file by path."""
    text_path = Path(name_or_path)
    if text_path.suffix in (".yaml", ".yml") or text_path.is_file():
        path = text_path
        if not path.is_file():
            raise ConfigError(f"{path}: protocol file not found")
        text = path.read_text()
    else:
        res = resources.files("spectype.experiments") / PROTOCOL_DIR / f"{name_or_path}.yaml"
        if not res.is_file():
            raise ConfigError(
                f"unknown protocol {str(name_or_path)!r}; built-in: {builtin_protocols()} "
                "(or pass a path to a protocol .yaml)"
            )
        path = Path(str(res))
        text = res.read_text()
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    raw = _as_dict(raw, str(path))
    rows = {}
    for rname, spec in _as_dict(raw.get("rows"), f"{path}: rows").items():
        spec = _as_dict(spec, f"{path}: rows.{rname}")
        if "model" not in spec:
            raise ConfigError(f"{path}: row {rname!r} has no 'model'")
        unknown = set(spec) - {"model", "label", "kwargs", "takes", "paper", "augment"}
        if unknown:
            raise ConfigError(f"{path}: row {rname!r} has unknown keys {sorted(unknown)}")
        rows[str(rname)] = Row(
            name=str(rname), model=str(spec["model"]), label=str(spec.get("label", "")),
            kwargs=_as_dict(spec.get("kwargs"), f"{path}: rows.{rname}.kwargs"),
            takes=list(spec.get("takes") or []),
            paper=None if spec.get("paper") is None else str(spec["paper"]),
            augment=None if spec.get("augment") is None else str(spec["augment"]),
        )
    raw_profiles = _as_dict(raw.get("profiles"), f"{path}: profiles")
    profiles = {}
    for pname in raw_profiles:
        spec = _extended(raw_profiles, str(pname), str(path))
        profiles[str(pname)] = Profile(
            name=str(pname), description=str(spec.get("description", "")),
            train=_as_dict(spec.get("train"), f"{path}: profiles.{pname}.train"),
            model_kwargs={
                str(g): _as_dict(v, f"{path}: profiles.{pname}.model_kwargs.{g}")
                for g, v in _as_dict(spec.get("model_kwargs"), f"{path}: profiles.{pname}.model_kwargs").items()
            },
            study=_as_dict(spec.get("study"), f"{path}: profiles.{pname}.study"),
            test_epoch=_test_epoch(spec.get("test_epoch", "best"), f"{path}: profiles.{pname}"),
        )
    if not rows or not profiles:
        raise ConfigError(f"{path}: a protocol needs 'rows' and 'profiles'")
    return Protocol(
        name=str(raw.get("name", path.stem)), title=str(raw.get("title", "")), rows=rows,
        profiles=profiles, reference=str(raw.get("reference", "")), source=path,
    )
