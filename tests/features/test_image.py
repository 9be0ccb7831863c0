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

# Bounds per method on these (noisy) synthetic spectra, with margin for matplotlib/PIL drift.
# Measured (docs/features.md): supersampled MAE 0.0050, SSIM 0.995; direct MAE 0.0141,
# SSIM 0.966 (merge=1: 0.0132, 0.968). The direct method is weakest on very noisy spectra
# like these; on LAMOST it scores SSIM 0.990 (test below).
BOUNDS = {"supersampled": (0.012, 0.97), "direct": (0.018, 0.95), "direct1": (0.018, 0.95)}
MAE_BOUND = BOUNDS["supersampled"][0]
METHODS = {"direct": {}, "direct1": {"merge": 1}, "supersampled": {"canvas": 512}}


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


@pytest.mark.parametrize("method", list(METHODS))
def test_fast_renderer_close_to_reference(method, flux, reference):
    renderer = SpectrumImage(**METHODS[method])
    assert renderer.method == method.rstrip("1")
    fast = renderer(flux)
    assert fast.shape == reference.shape
    mae = (fast - reference).abs().mean().item()
    score = ssim(fast, reference).mean().item()
    mae_bound, ssim_bound = BOUNDS[method]
    assert mae < mae_bound, mae
    assert score > ssim_bound, score


def test_direct_renderer_close_to_reference_on_lamost(shared_data):
    # Measured on 64 LAMOST DR10 spectra: MAE 0.0071, SSIM 0.9897 (min 0.972).
    from spectype.io import read

    files = sorted((shared_data / "lamost" / "dr10").glob("*.fits.gz"))[:12]
    if not files:
        pytest.skip(f"no LAMOST DR10 spectra under {shared_data / 'lamost' / 'dr10'}")
    rows = []
    for f in files:
        y = torch.as_tensor(np.asarray(read(f).flux, dtype=np.float64)[:3700])
        if y.numel() == 3700 and torch.isfinite(y).all():
            rows.append((y - y.min()) / (y.max() - y.min()))
    flux = torch.stack(rows).float()
    reference = reference_image_batch(flux)
    fast = SpectrumImage()(flux)
    assert (fast - reference).abs().mean() < 0.01
    assert ssim(fast, reference).mean() > 0.98


def test_canvas_smaller_than_output_is_refused():
    with pytest.raises(ValueError, match="canvas"):
        SpectrumImage(out_size=224, canvas=128)


def test_fast_renderer_is_not_trivially_close(flux, reference):
    # A blank image or a vertically flipped plot must score clearly worse than the renderer.
    blank = torch.ones_like(reference)
    flipped = SpectrumImage()(1.0 - flux)
    assert ssim(blank, reference).mean() < 0.9
    assert (flipped - reference).abs().mean() > 2 * MAE_BOUND


@pytest.mark.parametrize("method", list(METHODS))
def test_batch_equals_one_by_one_and_chunking(method, flux):
    kw = METHODS[method]
    whole = SpectrumImage(**kw)(flux)
    small_chunks = SpectrumImage(max_chunk_pixels=1, **kw)(flux)  # one spectrum per chunk
    single = torch.cat([SpectrumImage(**kw)(row[None]) for row in flux])
    torch.testing.assert_close(whole, small_chunks)
    torch.testing.assert_close(whole, single)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_flat_spectrum_draws_a_centred_line(method, value):
    img = SpectrumImage(**METHODS[method])(torch.full((1, 3700), value))[0, 0]
    assert torch.isfinite(img).all()
    rows = img.mean(dim=1)
    assert abs(int(rows.argmin()) - 112) <= 2
    assert rows.min() < 0.9


@pytest.mark.parametrize("canvas", [None, 128])
def test_short_spectra_and_other_sizes(canvas):
    # 50 samples across 64 px: segments wider than half a pixel are split first.
    flux = synthetic_flux(2, length=50)
    out = SpectrumImage(out_size=64, canvas=canvas)(flux)
    assert out.shape == (2, 3, 64, 64)
    assert (out < 0.9).any(), "a line must be drawn"
    reference = reference_image_batch(flux, out_size=64)
    assert ssim(out, reference).mean() > 0.9


def test_ssim_identity_and_bad_input():
    a = torch.rand(2, 1, 32, 32)
    torch.testing.assert_close(ssim(a, a), torch.ones(2, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"\(B, L\)"):
        SpectrumImage()(torch.zeros(3700))


@pytest.mark.parametrize("length", [3700, 3701])  # odd and even segment counts
def test_merged_segments_match_unmerged_on_a_smooth_line(length):
    # Merging pairs only approximates where a pair zigzags; on a smooth line, including the
    # shorter last run when the count is odd, it must draw the same picture.
    t = torch.linspace(0, 1, length)
    flux = (0.5 + 0.4 * torch.sin(2 * torch.pi * 1.5 * t))[None]
    merged, single = SpectrumImage()(flux), SpectrumImage(merge=1)(flux)
    assert (merged - single).abs().max() < 0.015  # measured 0.009
    assert (merged - single).abs().mean() < 2e-4  # measured 5e-5


@pytest.mark.parametrize("n_samples", [7, 8])  # 6 and 7 segments: the last run of 2 is short
def test_merged_strokes_keep_the_total_stroke_area(n_samples):
    # For a monotonic line a merged stroke spans exactly its segments' rows, so the drawn
    # area (density x rows) must add up to the unmerged one; a dropped run would show here.
    y = torch.linspace(0.1, 0.9, n_samples)[None] ** 2
    renderer = SpectrumImage(out_size=64)

    def area(merge):
        dens, top, bottom = renderer._segments(y, 64, 0.3, merge)
        return (dens * (bottom - top)).sum().item()

    assert area(2) == pytest.approx(area(1), rel=1e-5)
    assert area(3) == pytest.approx(area(1), rel=1e-5)


@pytest.mark.parametrize("method", list(METHODS))
def test_empty_batch_gives_empty_images(method):
    assert SpectrumImage(**METHODS[method])(torch.zeros(0, 3700)).shape == (0, 3, 224, 224)
