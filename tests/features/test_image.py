import numpy as np
import pytest
import torch

from spectype.features.image import (
    SpectrumImage,
    reference_image_batch,
    render_reference,
    ssim,
)

from .synth import synthetic_flux

# Measured on these synthetic spectra: MAE 0.0050, SSIM 0.995 (docs/features.md); the bounds
# leave margin for matplotlib/PIL version drift.
MAE_BOUND = 0.012
SSIM_BOUND = 0.97


@pytest.fixture(scope="module")
def flux() -> torch.Tensor:
    return synthetic_flux(4, seed=3)


@pytest.fixture(scope="module")
def reference(flux) -> torch.Tensor:
    return reference_image_batch(flux)


def test_render_reference_is_black_line_on_white():
    img = render_reference(np.linspace(0.0, 1.0, 3700))
    assert img.shape == (512, 512) and img.dtype == np.uint8
    assert img.max() == 255 and img.min() < 128  # a 0.67 px antialiased line never saturates
    # 5 % autoscale margins: the diagonal starts about 512 / 22 px in from the corners.
    dark = np.argwhere(img < 200)
    assert 18 <= dark[:, 1].min() <= 28 and 484 <= dark[:, 1].max() <= 494
    assert 18 <= dark[:, 0].min() <= 28 and 484 <= dark[:, 0].max() <= 494


def test_reference_batch_shape_and_range(reference):
    assert reference.shape == (4, 3, 224, 224)
    assert reference.min() >= 0 and reference.max() <= 1
    assert torch.equal(reference[:, 0], reference[:, 2])


def test_fast_renderer_close_to_reference(flux, reference):
    fast = SpectrumImage()(flux)
    assert fast.shape == reference.shape
    mae = (fast - reference).abs().mean().item()
    score = ssim(fast, reference).mean().item()
    assert mae < MAE_BOUND, mae
    assert score > SSIM_BOUND, score


def test_fast_renderer_is_not_trivially_close(flux, reference):
    # A blank image or a vertically flipped plot must score clearly worse than the renderer.
    blank = torch.ones_like(reference)
    flipped = SpectrumImage()(1.0 - flux)
    assert ssim(blank, reference).mean() < 0.9
    assert (flipped - reference).abs().mean() > 2 * MAE_BOUND


def test_batch_equals_one_by_one_and_chunking(flux):
    whole = SpectrumImage()(flux)
    small_chunks = SpectrumImage(max_chunk_pixels=1)(flux)  # one spectrum per chunk
    single = torch.cat([SpectrumImage()(row[None]) for row in flux])
    torch.testing.assert_close(whole, small_chunks)
    torch.testing.assert_close(whole, single)


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_flat_spectrum_draws_a_centred_line(value):
    img = SpectrumImage()(torch.full((1, 3700), value))[0, 0]
    assert torch.isfinite(img).all()
    rows = img.mean(dim=1)
    assert abs(int(rows.argmin()) - 112) <= 2
    assert rows.min() < 0.9


def test_short_spectra_and_other_sizes():
    flux = synthetic_flux(2, length=50)
    out = SpectrumImage(out_size=64, canvas=128)(flux)
    assert out.shape == (2, 3, 64, 64)
    assert (out < 0.9).any(), "a line must be drawn"


def test_ssim_identity_and_bad_input():
    a = torch.rand(2, 1, 32, 32)
    torch.testing.assert_close(ssim(a, a), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        SpectrumImage()(torch.zeros(3700))
