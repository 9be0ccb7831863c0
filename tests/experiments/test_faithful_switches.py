"""The papers' departures that have a setting (docs/reproduction.md, "The papers' departures").

- `test_epoch: last` in a profile tests the weights training ended with (the authors' code),
  written as `<run>/final/`; the default tests best/.
- FusionConfig `mel_db=False` keeps the Mel spectrogram in power; `audio_head_relu=False`
  drops the ReLU between the audio head's Linears. Both survive a model folder round trip.
"""

from __future__ import annotations

import json

import pytest
import safetensors.torch
import torch
import torch.nn as nn

from spectype.errors import ConfigError
from spectype.experiments.protocols import load_protocol
from spectype.experiments.runner import reproduce

from .conftest import TINY_PROTOCOL

PROTO = TINY_PROTOCOL + """
  tiny_last:
    description: three epochs, the last one tested
    extends: tiny
    train: {epochs: 3}
    test_epoch: last
"""


def test_test_epoch_last_scores_the_final_weights(repro_pack, tmp_path):
    proto = tmp_path / "p.yaml"
    proto.write_text(PROTO)
    kw = dict(seeds=1, out=tmp_path / "o", rows=["none"], device="cpu", command="test")
    res = reproduce(proto, repro_pack, profile="tiny_last", **kw)
    assert res.trained == [("none", 0)] and not res.failures
    run = next((tmp_path / "o").rglob("final"))
    result = json.loads((run.parent / "result.json").read_text())
    assert result["test_epoch"] == "last"
    final = safetensors.torch.load_file(str(run / "model.safetensors"))
    last = safetensors.torch.load_file(str(run.parent / "last" / "model.safetensors"))
    assert final.keys() == last.keys()
    assert all(torch.equal(final[k], last[k]) for k in final)
    # The default profile tests best/ and writes no final/.
    again = reproduce(proto, repro_pack, profile="tiny", **{**kw, "out": tmp_path / "b"})
    assert json.loads(next((tmp_path / "b").rglob("result.json")).read_text())["test_epoch"] == "best"
    assert not any((tmp_path / "b").rglob("final")) and not again.failures


def test_unknown_test_epoch_is_refused(tmp_path):
    proto = tmp_path / "p.yaml"
    proto.write_text(PROTO.replace("test_epoch: last", "test_epoch: final"))
    with pytest.raises(ConfigError, match="test_epoch"):
        load_protocol(proto)


def test_table4_faithful_profile_sets_the_authors_choices():
    prof = load_protocol("table4").profiles["faithful"]
    assert prof.test_epoch == "last" and prof.train["early_stopping"] == 5
    assert prof.model_kwargs["all"]["mel_db"] is False
    assert prof.model_kwargs["all"]["audio_head_relu"] is False
    assert load_protocol("table4").profiles["paper"].test_epoch == "best"
    assert load_protocol("table3").profiles["faithful"].test_epoch == "last"


def test_mel_power_and_head_without_relu_round_trip(tmp_path):
    import torchaudio

    from spectype.models import create_model
    from spectype.models.release import load_model, save_model

    kw = dict(input_len=512, n_classes=3)
    ours = create_model("mm_mel", **kw)
    faithful = create_model("mm_mel", **kw, mel_db=False, audio_head_relu=False)
    assert any(isinstance(m, nn.ReLU) for m in ours.branches["mel"].net.head)
    assert not any(isinstance(m, nn.ReLU) for m in faithful.branches["mel"].net.head)
    x = torch.rand(2, 512) + 0.5
    power = faithful.branches["mel"].feature(x)
    db = ours.branches["mel"].feature(x)
    assert power.min() >= 0 and not torch.allclose(power, db)
    # power is torchaudio's MelSpectrogram itself; dB is its AmplitudeToDB
    to_db = torchaudio.transforms.AmplitudeToDB("power", top_db=80)
    torch.testing.assert_close(to_db(power.reshape(2, 1, *power.shape[-2:])).reshape(db.shape), db,
                               rtol=1e-4, atol=1e-3)
    folder = save_model(faithful, tmp_path / "m", class_names=["A", "F", "G"], preprocess={})
    arch = json.loads((folder / "config.json").read_text())["arch"]
    assert arch["kwargs"]["mel_db"] is False and arch["kwargs"]["audio_head_relu"] is False
    back = load_model(folder).model
    faithful.eval()
    torch.testing.assert_close(back(x), faithful(x))
    assert not any(isinstance(m, nn.ReLU) for m in back.branches["mel"].net.head)
