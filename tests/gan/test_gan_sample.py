"""Sampling: a checkpoint folder reloads without pickles and writes a valid HDF5 file."""

import h5py
import numpy as np
import pytest

from spectype.errors import ModelLoadError
from spectype.gan import load_generator, sample, sample_to_file
from spectype.train.gan import GanConfig, train_gan

from .conftest import L, synthetic_class


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = GanConfig(
        model="lcgan",
        out=str(out),
        iters=1,
        checkpoint_every=1,
        noise_dim=16,
        batch_size=4,
        generator_kwargs={"channels": (2,), "kernel_size": 3},
        discriminator_kwargs={"channels": (4,)},
        class_name="O",
        class_names=["B", "O"],
        progress=False,
        device="cpu",
    )
    res = train_gan(
        synthetic_class(8, "hot", np.random.default_rng(0)),
        cfg,
        wavelength=np.linspace(4000, 9000, L),
    )
    return res.checkpoints[-1], res.generator


def test_reloaded_generator_matches_trained_one(checkpoint):
    folder, trained = checkpoint
    g = load_generator(folder)
    np.testing.assert_allclose(
        sample(g, 5, seed=2), sample(trained, 5, seed=2), rtol=1e-5, atol=1e-7
    )
    assert g.spectype_config["class_name"] == "O"


def test_sample_is_seeded_and_normalised(checkpoint):
    g = load_generator(checkpoint[0])
    a, b, c = sample(g, 7, seed=1, batch_size=3), sample(g, 7, seed=1), sample(g, 7, seed=2)
    assert a.shape == (7, L) and a.dtype == np.float32
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)  # batching does not change the draw
    assert not np.allclose(a, c)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-5)


def test_sample_to_file_writes_valid_h5(checkpoint, tmp_path):
    out = sample_to_file(checkpoint[0], 6, tmp_path / "gen.h5", seed=0)
    with h5py.File(out, "r") as f:
        assert f["flux"].shape == (6, L) and f["flux"].dtype == np.float32
        assert list(f["label"][:]) == [1] * 6  # index of 'O' in class_names
        assert f.attrs["generated"]
        assert list(f.attrs["class_names"]) == ["B", "O"]
        assert f.attrs["source_checkpoint"].endswith(checkpoint[0].name)
        assert f["wavelength"].shape == (L,)
    assert [p.name for p in tmp_path.iterdir()] == ["gen.h5"]  # no temporary left behind


def test_missing_folder_says_what_to_pass(tmp_path):
    with pytest.raises(ModelLoadError, match="not a GAN checkpoint folder"):
        load_generator(tmp_path)
