"""TrainConfig: YAML + key=value overrides, type checks, unknown keys, round trip."""

from __future__ import annotations

import pytest
import yaml

from spectype.errors import ConfigError
from spectype.train import TrainConfig, load_config, save_config


def test_defaults_follow_the_paper():
    cfg = load_config(None, [])
    assert (cfg.epochs, cfg.batch_size, cfg.lr, cfg.optimizer, cfg.loss) == (500, 256, 5e-4, "adam", "cross_entropy")


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("model: cnn1d_se\nepochs: 3\nmodel_kwargs: {hidden: 32}\n")
    cfg = load_config(path, ["lr=1e-3", "model_kwargs.attn_kwargs.reduction=4", "split_seed=7", "balance=null"])
    assert cfg.model == "cnn1d_se" and cfg.epochs == 3
    assert cfg.lr == pytest.approx(1e-3) and isinstance(cfg.lr, float)  # YAML 1.1 reads 1e-3 as text
    assert cfg.model_kwargs == {"hidden": 32, "attn_kwargs": {"reduction": 4}}
    assert cfg.split_seed == 7 and cfg.balance is None


def test_unknown_key_lists_valid_keys(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'lrate'.*valid keys:.*batch_size"):
        load_config(None, ["lrate=0.1"])
    path = tmp_path / "bad.yaml"
    path.write_text("epoch: 3\n")
    with pytest.raises(ConfigError, match=f"{path}.*valid keys"):
        load_config(path, [])


@pytest.mark.parametrize(
    "override, message",
    [("epochs=three", "epochs"), ("optimizer=sgd", "optimizer"), ("batch_size=0", "batch_size"),
     ("amp=fp16", "amp"), ("noequals", "key=value"), ("device=tpu", "device")],
)
def test_bad_values_raise(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, [override])


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", [])
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, [])


def test_save_config_round_trip(tmp_path):
    cfg = TrainConfig(data="p.h5", model="cnn1d_eca", model_kwargs={"hidden": 8}, epochs=2, split_seed=3)
    save_config(cfg, tmp_path / "config.yaml")
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["model_kwargs"] == {"hidden": 8}
    assert load_config(tmp_path / "config.yaml", []) == cfg
