import pytest

from spectype.errors import ConfigError
from spectype.experiments.protocols import builtin_protocols, load_protocol
from spectype.experiments.runner import run_config
from spectype.models import list_models


def test_builtin_tables_name_registered_models():
    assert {"table3", "table4"} <= set(builtin_protocols())
    t3, t4 = load_protocol("table3"), load_protocol("table4")
    assert list(t3.rows) == ["cnn1d_none", "cnn1d_se", "cnn1d_eca", "cnn1d_gct", "cnn1d_bam",
                             "cnn1d_coordatt", "cnn1d_cca"]
    assert list(t4.rows) == ["mm_1d", "mm_2d", "mm_mel", "mm_mfcc", "mm_lfcc", "mm_1d_2d",
                             "mm_1d_audio", "mm_all"]
    known = set(list_models())
    for proto in (t3, t4):
        assert {r.model for r in proto.rows.values()} <= known
        assert set(proto.profiles) == {"quick", "paper", "faithful"}
        # faithful = paper + the authors' early stopping, last epoch tested and (fusion) Mel
        # power / no audio-head ReLU (docs/reproduction.md, departures)
        faithful, paper = proto.profiles["faithful"], proto.profiles["paper"]
        assert faithful.train == {**paper.train, "early_stopping": 5}
        assert (faithful.test_epoch, paper.test_epoch) == ("last", "best")
        authors = {"mel_db": False, "audio_head_relu": False} if proto is t4 else {}
        assert faithful.model_kwargs == {g: {**kw, **authors} for g, kw in paper.model_kwargs.items()}


def test_profile_extends_refuses_unknown_and_loops(tmp_path):
    base = "name: x\nrows: {r: {model: cnn1d_none}}\nprofiles:\n"
    bad = tmp_path / "bad.yaml"
    bad.write_text(base + "  a: {extends: nowhere}\n")
    with pytest.raises(ConfigError, match="extends unknown profile 'nowhere'"):
        load_protocol(bad)
    bad.write_text(base + "  a: {extends: b}\n  b: {extends: a}\n")
    with pytest.raises(ConfigError, match="in a loop"):
        load_protocol(bad)


def test_profiles_resolve_to_valid_train_configs(tmp_path):
    t4 = load_protocol("table4")
    model, kwargs, train = t4.resolve("mm_all", "quick")
    assert model == "mm_all" and kwargs == {"image_size": 64, "image_canvas": 128, "epsanet_layers": [1, 1, 1, 1], "spec1d_hidden": 128}
    _, paper_kwargs, paper_train = t4.resolve("mm_2d", "paper")
    assert paper_kwargs == {"image_size": 224, "image_canvas": 512, "epsanet_layers": [3, 4, 6, 3]}
    assert (paper_train["epochs"], paper_train["batch_size"], paper_train["lr"], paper_train["balance"]) == (
        500, 256, 5e-4, 6000)
    for name in ("table3", "table4"):
        proto = load_protocol(name)
        for row in proto.rows:
            for profile in proto.profiles:
                cfg = run_config(proto, row, 3, profile, tmp_path / "p.h5", tmp_path / "r")
                assert cfg.seed == 3 and cfg.split_seed == 3 and cfg.model == proto.rows[row].model
    cfg = run_config(t4, "mm_1d", 0, "quick", "p.h5", tmp_path, epochs=1, overrides=["lr=0.01"])
    assert cfg.epochs == 1 and cfg.lr == 0.01


def test_bad_names_and_files_are_config_errors(tmp_path):
    t3 = load_protocol("table3")
    with pytest.raises(ConfigError, match="unknown profile"):
        t3.resolve("cnn1d_se", "fast")
    with pytest.raises(ConfigError, match="unknown rows"):
        t3.row_names(["cnn1d_xx"])
    with pytest.raises(ConfigError, match="unknown protocol"):
        load_protocol("table9")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: {a: {label: x}}\nprofiles: {q: {}}\n")
    with pytest.raises(ConfigError, match="has no 'model'"):
        load_protocol(bad)
