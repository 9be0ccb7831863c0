import pytest
import torch

from spectype.features.audio import (
    AUDIO_KINDS,
    AUDIO_PRESETS,
    AudioFeature,
    AudioFeatures,
    audio_feature_shape,
    torchaudio_transform,
)

from .synth import synthetic_flux

# (F, T) at L = 3700; the model helper sizes its layers from these.
EXPECTED = {
    ("paper", "mel"): (64, 47),
    ("paper", "mfcc"): (30, 93),
    ("paper", "lfcc"): (40, 47),
    ("authors-code", "mel"): (64, 62),
    ("authors-code", "mfcc"): (30, 93),
    ("authors-code", "lfcc"): (30, 54),
}
CASES = [(p, k) for p in AUDIO_PRESETS for k in AUDIO_KINDS]


@pytest.fixture(scope="module")
def flux() -> torch.Tensor:
    return synthetic_flux(6, seed=1)


@pytest.mark.parametrize("preset,kind", CASES)
def test_matches_torchaudio(preset, kind, flux):
    ours = AudioFeature(kind, preset)(flux)
    ref = torchaudio_transform(kind, preset)(flux.unsqueeze(1))
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=5e-3)


@pytest.mark.parametrize("preset,kind", CASES)
def test_shape_at_3700(preset, kind, flux):
    out = AudioFeature(kind, preset)(flux)
    assert tuple(out.shape) == (flux.shape[0], 1, *EXPECTED[preset, kind])
    assert audio_feature_shape(kind, preset, 3700) == EXPECTED[preset, kind]


@pytest.mark.parametrize("preset,kind", CASES)
def test_batch_equals_one_by_one(preset, kind, flux):
    feat = AudioFeature(kind, preset)
    batched = feat(flux)
    single = torch.cat([feat(row[None]) for row in flux])
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("kind", AUDIO_KINDS)
@pytest.mark.parametrize("value", [0.0, 1.0])
def test_constant_input_is_finite(kind, value):
    out = AudioFeature(kind)(torch.full((2, 3700), value))
    assert torch.isfinite(out).all()


def test_mel_raw_power_option(flux):
    ours = AudioFeature("mel", mel_db=False)(flux)
    ref = torchaudio_transform("mel", mel_db=False)(flux.unsqueeze(1))
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-4)
    assert (ours >= 0).all()


@pytest.mark.parametrize("preset", list(AUDIO_PRESETS))
def test_audio_features_equal_single_features(preset, flux):
    out = AudioFeatures(preset=preset)(flux)
    assert set(out) == set(AUDIO_KINDS)
    for kind in AUDIO_KINDS:
        torch.testing.assert_close(out[kind], AudioFeature(kind, preset)(flux))


def test_buffers_follow_dtype_and_module_moves():
    feat = AudioFeature("mfcc").to(torch.float64)
    out = feat(synthetic_flux(2).double())
    assert out.dtype == torch.float64
    assert {name for name, _ in feat.named_buffers()} >= {"fbank", "dct"}


def test_bad_arguments_say_what_to_choose():
    with pytest.raises(ValueError, match="mel"):
        AudioFeature("chroma")
    with pytest.raises(ValueError, match="paper"):
        AudioFeature("mel", preset="nope")
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        AudioFeature("mel")(torch.zeros(3700))


@pytest.mark.parametrize("preset", list(AUDIO_PRESETS))
def test_chunked_batch_equals_whole(preset, flux):
    # 6 spectra in chunks of 4 (a full and a partial chunk) vs one chunk of 32.
    whole = AudioFeatures(preset=preset)(flux)
    chunked = AudioFeatures(preset=preset, chunk_size=4)(flux)
    for kind in AUDIO_KINDS:
        torch.testing.assert_close(chunked[kind], whole[kind], rtol=1e-5, atol=1e-4)
        torch.testing.assert_close(
            AudioFeature(kind, preset, chunk_size=4)(flux), whole[kind], rtol=1e-5, atol=1e-4
        )


def test_short_window_map_stays_float64_after_dtype_moves(flux):
    # `.float()` / `.half()` on a model must not round the exact short-window map.
    feat = AudioFeature("mfcc").float()
    assert feat.short and feat.basis.dtype == torch.float64 and feat.fbank.dtype == torch.float64
    ref = torchaudio_transform("mfcc")(flux.unsqueeze(1))
    torch.testing.assert_close(feat(flux), ref, rtol=1e-4, atol=5e-3)


def test_empty_batch_gives_empty_features():
    out = AudioFeatures()(torch.zeros(0, 3700))
    for kind in AUDIO_KINDS:
        assert out[kind].shape == (0, 1, *EXPECTED["paper", kind])
        assert AudioFeature(kind)(torch.zeros(0, 3700)).shape == out[kind].shape
