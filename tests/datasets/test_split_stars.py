"""Real spectra are grouped by star (LAMOST DESIG/OBJNAME, else a 3″ position match), so two
spectra of one star never sit in two splits (issue 12: 11 DR10 stars have two spectra)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spectype.catalog import scan, write_catalog
from spectype.datasets import DatasetConfig, Pack, build_dataset, group_keys, star_groups
from spectype.datasets.split import star_name, star_position
from spectype.spectrum import SpectrumMeta

from .conftest import write_lamost

ARCSEC = 1 / 3600


def test_star_groups_join_names_and_close_positions():
    names = ["DESIG:J1", "DESIG:J1", "", "", "", "OBJNAME:7"]
    ra = np.array([10.0, 50.0, 20.0, 20.0 + 2 * ARCSEC, 20.0 + 10 * ARCSEC, np.nan])
    dec = np.array([0.0, 0.0, 5.0, 5.0, 5.0, np.nan])
    keys = star_groups(names, ra, dec, [f"row{i}" for i in range(6)])
    # One name, far apart on the sky: one star. 2″ apart without names: one star, keyed by
    # its first row. 10″ away: another star. No position, own name: its own group.
    assert keys.tolist() == ["DESIG:J1", "DESIG:J1", "row2", "row2", "row4", "OBJNAME:7"]


def test_star_name_and_position_from_headers():
    lamost = SpectrumMeta(header={"DESIG": " LAMOST J0644+2416 ", "OBJNAME": "3379", "RA": 101.08, "DEC": 24.27})
    assert star_name(lamost) == "DESIG:LAMOST J0644+2416"
    assert star_position(lamost) == (101.08, 24.27)
    # SDSS: RA/DEC is the plate centre, PLUG_RA/PLUG_DEC the object.
    sdss = SpectrumMeta(header={"RA": 237.28, "DEC": 52.63, "PLUG_RA": 236.97, "PLUG_DEC": 52.81})
    assert star_name(sdss) == "" and star_position(sdss) == (236.97, 52.81)
    assert star_name(SpectrumMeta(header={"OBJNAME": "0"})) == ""
    assert np.isnan(star_position(SpectrumMeta())).all()


def test_group_keys_use_star_columns_before_the_spectrum():
    cat = pd.DataFrame({
        "path": ["a", "b", "c", "d"], "index": [0, 0, 0, 0],
        "star": ["DESIG:J1", "DESIG:J1", None, None],
        "ra": [1.0, 9.0, 30.0, 30.0 + ARCSEC], "dec": [0.0, 0.0, 0.0, 0.0],
    })
    assert group_keys(cat).tolist() == ["DESIG:J1", "DESIG:J1", "c#0", "c#0"]
    # An old catalogue without the star columns groups by spectrum, as before.
    assert group_keys(cat.drop(columns=["star", "ra", "dec"])).tolist() == ["a#0", "b#0", "c#0", "d#0"]


@pytest.fixture(scope="module")
def repeat_catalog(tmp_path_factory) -> tuple[Path, list[tuple[str, ...]]]:
    """40 A and 40 G stars, one LAMOST file each; 8 of them observed twice under one DESIG
    (another file, another obsid) and 2 observed twice without a name, 1″ apart."""
    root = tmp_path_factory.mktemp("stars")
    files, pairs, obsid = root / "files", [], 5000
    files.mkdir()
    for k, cls in enumerate("A" * 40 + "G" * 40):
        ra, dec = 10.0 + 0.01 * k, 20.0
        named = k % 10 != 9
        cards = {"RA": ra, "DEC": dec, **({"DESIG": f"LAMOST J{k:04d}"} if named else {})}
        obsid += 1
        first = write_lamost(files / f"spec-{obsid}.fits", f"{cls}5", obsid, seed=obsid, cards=cards)
        if k % 10 in (0, 9):  # observed again (a name; or 1″ away with no name)
            obsid += 1
            again = dict(cards, RA=ra + (0 if named else ARCSEC))
            second = write_lamost(files / f"spec-{obsid}.fits", f"{cls}5", obsid, seed=obsid, cards=again)
            pairs.append((first.name, second.name))
    return write_catalog(scan([files], workers=1), root / "cat.parquet"), pairs


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_two_spectra_of_one_star_land_in_one_split(repeat_catalog, tmp_path, seed):
    catalog, pairs = repeat_catalog
    assert len(pairs) == 16
    build_dataset(catalog, tmp_path / "p.h5", DatasetConfig(seed=seed, fractions=(0.5, 0.25, 0.25)), workers=1)
    pack = Pack(tmp_path / "p.h5")
    split_of = {Path(p).name: int(s) for p, s in zip(pack.paths, pack.split, strict=True)}
    assert len(split_of) == 96
    assert {split_of[a] == split_of[b] for a, b in pairs} == {True}
    # The splits are real: the pairs are not all in train.
    assert len({split_of[a] for a, _ in pairs}) > 1


def test_plan_group_split_counts_each_star_once():
    from spectype.datasets import plan_group_split, plan_split

    # 12 stars of class 0 and 12 of class 1; odd stars have 5 spectra, even ones 1.
    stars = [f"s{i:02d}" for i in range(24)]
    groups = np.concatenate([[s] * (5 if i % 2 else 1) for i, s in enumerate(stars)])
    labels = np.array([0 if int(g[1:]) < 12 else 1 for g in groups])
    labels[np.flatnonzero(groups == "s01")[0]] = 1  # a minority label does not move the star
    gs = plan_group_split(groups, labels, (0.5, 0.0, 0.5), seed=4)
    assert gs.keys.tolist() == stars and gs.label.tolist() == [0] * 12 + [1] * 12
    test = gs.groups("test")
    # Half of each class's *stars* are held out, however many spectra each has.
    assert len(gs.groups("test", 0)) == 6 and len(gs.groups("test", 1)) == 6
    assert not set(test) & set(gs.groups("train"))
    # The same rule as splitting the list of stars itself (the LCGAN protocol's).
    direct = plan_split(gs.label, gs.keys, (0.5, 0.0, 0.5), seed=4).indices["test"]
    assert test == sorted(gs.keys[direct])
