"""One model-folder format for every role: GAN checkpoints are model folders with a role, older
folders (no role, or the old GAN checkpoint format) still load, and the folder checks hold for
generators and discriminators as for classifiers."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from spectype.errors import ModelLoadError
from spectype.gan.folder import load_gan_module, read_gan_config, save_gan_folder
from spectype.models import create_model, list_models, register_model
from spectype.models.release import load_model, save_model

L, NOISE = 64, 16
G_KW = {"input_len": L, "noise_dim": NOISE, "channels": [4], "kernel_size": 3, "dropout": 0.2}
D_KW = {"input_len": L, "noise_dim": NOISE, "channels": [4, 8], "kernel_size": 7, "dropout": 0.3}
RUN = {"gan": "lcgan", "class_name": "O", "class_names": ["B", "O"], "normalisation": "l2",
       "input_len": L, "noise_dim": NOISE, "wavelength": None, "training": {"iters": 2},
       "training_groups": ["1", "2"], "iteration": 2}  # fmt: skip


def _gan(seed: int = 0):
    torch.manual_seed(seed)
    return create_model("gan_lcgan_generator", **G_KW), create_model("gan_lcgan_discriminator", **D_KW)


@pytest.fixture(scope="module")
def gan_folder(tmp_path_factory):
    g, d = _gan()
    config = {"arch": g.spectype_arch, "discriminator_arch": d.spectype_arch, **RUN}
    folder = save_gan_folder(tmp_path_factory.mktemp("gan") / "iter_000002", g, d, config, {"samples.png": b"png"})
    return folder, g, d


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_gan_checkpoint_is_a_model_folder_with_roles(gan_folder):
    folder, g, d = gan_folder
    assert {p.name for p in folder.iterdir()} == {"config.json", "model.safetensors", "discriminator.safetensors", "samples.png"}
    cfg = json.loads((folder / "config.json").read_text())
    assert (cfg["format"], cfg["format_version"], cfg["role"]) == ("spectype-model", 2, "generator")
    assert cfg["arch"] == {"name": "gan_lcgan_generator", "kwargs": G_KW}
    assert cfg["companions"] == {"discriminator": {"name": "gan_lcgan_discriminator", "kwargs": D_KW}}
    assert cfg["preprocess"] == {"norm": "l2", "n_pix": L} and cfg["class_names"] == ["B", "O"]
    assert {k: cfg[k] for k in ("class_name", "iteration", "training_groups", "noise_dim")} == {
        "class_name": "O", "iteration": 2, "training_groups": ["1", "2"], "noise_dim": NOISE}
    g2, c = load_gan_module(folder)
    d2, _ = load_gan_module(folder, "discriminator")
    assert _same_weights(g, g2) and _same_weights(d, d2) and not g2.training
    assert g2.spectype_config["class_name"] == "O" == c["class_name"]
    assert load_model(folder, role="discriminator").role == "discriminator"


def test_pre_change_gan_checkpoint_still_loads(tmp_path):
    # Exactly what gan/folder.py wrote before model folders had roles.
    g, d = _gan(1)
    folder = tmp_path / "iter_000500"
    folder.mkdir()
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(folder / "model.safetensors"))
    save_file({k: v.contiguous() for k, v in d.state_dict().items()}, str(folder / "discriminator.safetensors"))
    old = {"format": "spectype-gan-checkpoint", "arch": {"name": "gan_lcgan_generator", "kwargs": G_KW},
           "discriminator_arch": {"name": "gan_lcgan_discriminator", "kwargs": D_KW}, **RUN}
    (folder / "config.json").write_text(json.dumps(old, indent=2))
    assert read_gan_config(folder)["class_name"] == "O"
    g2, cfg = load_gan_module(folder)
    d2, _ = load_gan_module(folder, "discriminator")
    assert _same_weights(g, g2) and _same_weights(d, d2)
    assert cfg["role"] == "generator" and cfg["iteration"] == 2
    with pytest.raises(ModelLoadError, match="holds a generator and a discriminator, not a classifier"):
        load_model(folder)


def test_pre_change_classifier_folder_loads_as_a_classifier(tmp_path):
    torch.manual_seed(0)
    model = create_model("cnn1d_none", n_classes=3, input_len=256, hidden=8, out_dim=4)
    folder = save_model(model, tmp_path / "m", class_names=["A", "F", "K"], preprocess={"n_pix": 256})
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["role"] == "classifier" and cfg["companions"] == {}
    # Format 1, as written before roles: no role, no companions, no attn for cnn1d_none.
    del cfg["role"], cfg["companions"], cfg["arch"]["kwargs"]["attn"]
    (folder / "config.json").write_text(json.dumps({**cfg, "format_version": 1}))
    loaded = load_model(folder)
    assert loaded.role == "classifier" and loaded.config["role"] == "classifier"
    assert _same_weights(model, loaded.model)
    with pytest.raises(ModelLoadError, match="holds a classifier, not a generator"):
        load_model(folder, role="generator")


def _edited(src, dst, change):
    shutil.copytree(src, dst)
    cfg = json.loads((dst / "config.json").read_text())
    change(cfg)
    (dst / "config.json").write_text(json.dumps(cfg))
    return dst


BAD_GAN_CONFIGS = {
    "huge generator channel": (lambda c: c["arch"]["kwargs"].update(channels=[10**7]), "outside 0..65536"),
    "negative discriminator size": (lambda c: c["companions"]["discriminator"]["kwargs"].update(kernel_size=-3),
                                    "companions.discriminator.kwargs.kernel_size = -3 is outside"),
    "classifier as discriminator": (lambda c: c["companions"].update(discriminator={"name": "cnn1d_none"}),
                                    "a classifier, not a discriminator"),
    "generator as main classifier": (lambda c: c.update(role="classifier"), "a generator, not a classifier"),
    "unknown role": (lambda c: c.update(role="critic"), "role 'critic' is not one of"),
    "unknown companion role": (lambda c: c["companions"].update(critic=c["arch"]), "'companions' must map roles"),
    "no class names": (lambda c: c.update(class_names=[]), "class_names must be a list of 1.."),
    "length mismatch": (lambda c: c["companions"]["discriminator"]["kwargs"].update(input_len=L + 1),
                        "model input disagree"),
    "too many parameters": (lambda c: c["arch"]["kwargs"].update(channels=[60000, 60000]),
                            "parameters (limit"),
    "deep nesting": (lambda c: c.update(training=json.loads("[" * 40 + "]" * 40)), "nested deeper than 16"),
}


@pytest.mark.parametrize("case", list(BAD_GAN_CONFIGS))
def test_folder_checks_hold_for_every_role(case, gan_folder, tmp_path):
    change, message = BAD_GAN_CONFIGS[case]
    folder = _edited(gan_folder[0], tmp_path / "bad", change)
    with pytest.raises(ModelLoadError) as err:
        load_gan_module(folder, "discriminator" if "discriminator" in case else "generator")
    assert message in str(err.value) and "config.json" in str(err.value), str(err.value)


def test_weights_of_another_length_are_refused(gan_folder, tmp_path):
    def change(cfg):
        cfg["arch"]["kwargs"]["input_len"] = cfg["input_len"] = L * 2
        cfg["preprocess"]["n_pix"] = cfg["companions"]["discriminator"]["kwargs"]["input_len"] = L * 2
    folder = _edited(gan_folder[0], tmp_path / "longer", change)
    with pytest.raises(ModelLoadError, match="do not fit|do not match"):
        load_gan_module(folder)


SHORT = "test_short_generator"
if SHORT not in list_models():

    @register_model(name=SHORT, role="generator")
    def _short(input_len: int = 8, noise_dim: int = 4) -> torch.nn.Module:
        """A generator one pixel short of input_len."""
        return torch.nn.Linear(noise_dim, input_len - 1)


def test_generator_output_length_is_checked_before_loading(tmp_path):
    folder = save_model(create_model(SHORT), tmp_path / "short", class_names=["O"], preprocess={})
    with pytest.raises(ModelLoadError, match=r"the generator in 'arch' gives outputs of shape \(7,\) for input_len 8"):
        load_model(folder, role="generator")


def test_nan_discriminator_weights_are_refused(gan_folder, tmp_path):
    folder = tmp_path / "nan"
    shutil.copytree(gan_folder[0], folder)
    tensors = load_file(folder / "discriminator.safetensors")
    tensors = {k: torch.full_like(v, float("nan")) for k, v in tensors.items()}
    save_file(tensors, folder / "discriminator.safetensors")
    load_gan_module(folder)  # the generator is fine
    with pytest.raises(ModelLoadError, match="discriminator.safetensors: weights hold NaN"):
        load_gan_module(folder, "discriminator")


def test_save_refuses_what_would_break_the_format(tmp_path):
    g, d = _gan()
    with pytest.raises(ValueError, match="would replace the folder's own"):
        save_model(g, tmp_path / "a", class_names=["O"], preprocess={}, extra={"role": "classifier"})
    with pytest.raises(ValueError, match="plain file names"):
        save_model(g, tmp_path / "b", class_names=["O"], preprocess={}, extra_files={"../x.png": b""})
    with pytest.raises(ValueError, match="companion 'generator'"):
        save_model(d, tmp_path / "c", class_names=["O"], preprocess={}, companions={"generator": d})
    assert not list(tmp_path.iterdir())


def test_audio_fusion_folder_loads(tmp_path):
    # Sizing on torch's meta device used to fail for audio branches (torchaudio calls .item()).
    model = create_model("mm_mel", n_classes=3, input_len=512)
    folder = save_model(model, tmp_path / "mel", class_names=["A", "F", "K"], preprocess={"n_pix": 512})
    loaded = load_model(folder)
    flux = torch.rand(2, 512)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(flux), model.eval()(flux))
