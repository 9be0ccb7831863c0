import numpy as np

import spectype
from spectype.datasets import Pack
from spectype.labels import parse_label
from spectype.simulate import (
    RealDistributions,
    SimConfig,
    batch_spectra,
    build_simulated_dataset,
    normalise_star_name,
    simulate_source,
    write_lamost_fits,
)

from .conftest import make_profile, make_source


def test_fits_reads_back_with_label_and_metadata(tmp_path):
    dists = RealDistributions(z=np.array([2e-4]), snr_g=np.array([40.0]))
    batch = simulate_source(make_source("B3V", "HD29763"), 1, SimConfig(), dists, [make_profile()], np.random.default_rng(0))
    spec = batch_spectra(batch, 7)[0]
    path = write_lamost_fits(spec, tmp_path / "sim.fits", obsid=7)
    back = spectype.read(path)
    assert back.meta.survey == "LAMOST" and back.meta.id == "7"
    assert parse_label(back.meta.subclass).cls == "B"
    assert back.meta.z == spec.meta.z
    assert back.meta.header["SIM_STAR"] == "HD29763"
    assert back.meta.header["SIM_RV"] == batch.params[0]["rv_kms"]
    assert np.allclose(back.flux, spec.flux.astype(np.float32))
    assert np.array_equal(back.mask, spec.mask)


def test_star_names_unify_across_libraries():
    assert normalise_star_name("HD002857") == normalise_star_name("2857") == "HD2857"
    assert normalise_star_name("G_165-39") == "G165-39"


def test_pack_is_split_by_source_star(tmp_path, data_root):
    sources = [make_source(c, f"HD{i}{c}") for c in ("A0V", "G2V") for i in range(6)]
    # The same star (group HD0A0V) from a second library: both sources' rows share a split.
    sources.append(make_source("A1V", "HD0A0V", key="OTHERLIB:HD0A0V"))
    res = build_simulated_dataset(
        tmp_path / "p.h5", classes=["A", "G"], per_class=40, seed=3, data_root=data_root,
        sources=sources, profiles=[make_profile("1"), make_profile("2")], workers=1,
    )
    pack = Pack(res.path)
    assert pack.class_names == ["A", "G"] and len(pack) == 80
    seen = {s: set(pack.groups[pack.indices(s)]) for s in ("train", "val", "test")}
    assert seen["train"] and seen["test"]
    assert not (seen["train"] & seen["val"] or seen["train"] & seen["test"] or seen["val"] & seen["test"])
    assert len(set(pack.split[pack.groups == "HD0A0V"])) == 1
    assert np.bincount(pack.labels).tolist() == [40, 40]
    assert pack.read_flux(np.arange(3)).shape == (3, 3700)
