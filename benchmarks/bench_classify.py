"""classify throughput and memory, each against a baseline run side by side.

1. From .fits.gz files: `classify_files` (worker processes, fast FITS path, batched model)
   vs the naive loop a user would write (astropy open, preprocess, one forward per spectrum).
   Target on the 2-core dev machine: >= 300 spectra/s.
2. From a pack with the default model: `classify_files(pack)` vs one forward per spectrum.
   Target: >= 3,000 spectra/s.
3. Peak memory (ru_maxrss of a child process) for N and 4N input files: must stay flat.
4. The inflate floor: ms per file to gunzip the same inputs (bytes already in memory) with
   zlib as the readers do, and with each faster inflater found (isal, zlib-ng, the system's
   libdeflate through ctypes), against the CPU time classify spends per file.

Inputs: real LAMOST DR10 files from ../shared/data when present (else synthetic files).
`python -m benchmarks.run classify` (or BENCH_CLASSIFY_N=400 for a shorter run).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SPECTYPE_SHARED_DATA", REPO.parent / "shared" / "data"))


def _input_files(n: int, tmp: Path) -> list[Path]:
    real = sorted((SHARED / "lamost" / "dr10").glob("*.fits.gz"))
    if real:
        return [real[i % len(real)] for i in range(n)]
    from spectype.testing import write_lamost_table

    # Distinct files: classify drops repeated paths, so repeats would shrink the run.
    return [write_lamost_table(tmp / f"s{i}.fits.gz", n=3909, gz=True, OBSID=i) for i in range(n)]


def _naive_rate(files: list[Path], model) -> float:
    """The per-spectrum loop: astropy read, preprocess, batch-of-one forward."""
    import torch
    from astropy.io import fits

    from spectype.preprocess import PreprocessConfig, preprocess
    from spectype.spectrum import Spectrum, SpectrumMeta

    cfg = PreprocessConfig()
    t0 = time.perf_counter()
    for f in files:
        with fits.open(f) as h:
            d = h[1].data
            z = h[0].header.get("Z")
            spec = Spectrum(d["WAVELENGTH"][0], d["FLUX"][0], d["IVAR"][0], d["ANDMASK"][0] != 0,
                            meta=SpectrumMeta(z=z if z is not None and z > -999 else None))
        x = torch.from_numpy(preprocess(spec, cfg).flux[None])
        with torch.inference_mode():
            model(x)
    return len(files) / (time.perf_counter() - t0)


def _classify_rate(inputs, out: Path, workers: int) -> tuple[float, int]:
    from spectype.batch import ClassifyOptions, classify_files

    s = classify_files(inputs, out, options=ClassifyOptions(workers=workers, resume=False, progress=False))
    return s.spectra_per_second, s.n_ok


def _peak_rss_mb(n_files: int) -> float:
    """Peak RSS of a child that classifies n_files (so the parent's memory does not count)."""
    code = (
        "import resource,sys,tempfile,pathlib;"
        "from benchmarks.bench_classify import _input_files;"
        "from spectype.batch import classify_files, ClassifyOptions;"
        f"t=pathlib.Path(tempfile.mkdtemp()); f=_input_files({n_files}, t);"
        "classify_files(f, t/'r.parquet', options=ClassifyOptions(workers=2, resume=False, progress=False));"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    import torch

    from spectype.models.release import load_model

    n = int(os.environ.get("BENCH_CLASSIFY_N", "1600"))
    torch.set_num_threads(os.cpu_count() or 1)
    loaded = load_model()
    print(f"default model: {loaded.config['arch']['name']}, classes {loaded.class_names}; cores: {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmpd:
        tmp = Path(tmpd)
        files = _input_files(n, tmp)
        base = _naive_rate(files[: min(200, n)], loaded.model)
        workers = os.cpu_count() or 1
        fast, n_ok = _classify_rate(files, tmp / "r.parquet", workers=workers)
        print(f"[fits.gz] naive loop {base:.0f} spectra/s | classify {fast:.0f} spectra/s "
              f"({n_ok} spectra) | ratio {fast / base:.1f}x | target >= 300: {'PASS' if fast >= 300 else 'MISS'} "
              f"| load average {os.getloadavg()[0]:.1f}")
        core_ms = 1e3 * workers / fast  # cores x wall per file (one spectrum each): a CPU-time bound
        for name, ms in _inflate_ms(files).items():
            print(f"[inflate] {name}: {ms:.2f} ms/file = {100 * ms / core_ms:.0f}% of classify's "
                  f"{core_ms:.2f} core-ms/file; alone it would cap {workers} cores at {1e3 * workers / ms:.0f} files/s")

        # A pack of the same spectra, preprocessed once; classify reads slices and batches them.
        pack = tmp / "p.h5"
        _write_pack(tmp / "r.parquet", files, pack)
        per_one = _per_spectrum_forward_rate(pack, loaded.model)
        rate, n_ok = _classify_rate([pack], tmp / "rp.parquet", workers=1)
        print(f"[pack]    one forward per spectrum {per_one:.0f} spectra/s | classify {rate:.0f} spectra/s "
              f"({n_ok} spectra) | ratio {rate / per_one:.1f}x | target >= 3000: {'PASS' if rate >= 3000 else 'MISS'}")

    small, big = max(100, n // 8), max(400, n // 2)
    m_small, m_big = _peak_rss_mb(small), _peak_rss_mb(big)
    print(f"[memory]  peak RSS {m_small:.0f} MB for {small} files, {m_big:.0f} MB for {big} files "
          f"(ratio {m_big / m_small:.2f}; flat means ~1)")


def _write_pack(results: Path, files: list[Path], pack: Path) -> None:
    """A pack in the datasets layout holding the preprocessed flux of `files` (unique ones)."""
    from dataclasses import asdict

    from spectype import read
    from spectype.datasets import write_pack
    from spectype.preprocess import PreprocessConfig, lamost_grid, preprocess

    cfg = PreprocessConfig()
    uniq = list(dict.fromkeys(files))
    flux = np.stack([preprocess(read(f), cfg).flux for f in uniq]).astype(np.float32)
    reps = -(-len(files) // len(uniq))
    flux = np.tile(flux, (reps, 1))[: len(files)]
    n = len(flux)
    empty = np.zeros(0, np.int64)
    write_pack(
        pack, flux, wavelength=lamost_grid(), labels=np.zeros(n, np.int64), class_names=["A"],
        indices={"train": empty, "val": empty, "test": np.arange(n)}, ids=[f"r{i}" for i in range(n)],
        paths=[str(pack)] * n, groups=[f"g{i}" for i in range(n)],
        index=np.arange(n),  # unique keys for the repeated rows
        codes=np.zeros(n), snr_i=np.full(n, 50.0), params={"preprocess": asdict(cfg)},
    )


def _inflate_ms(files: list[Path], n: int = 300) -> dict[str, float]:
    """Median-of-3 ms per file to gunzip the first n inputs, bytes already read."""
    import gzip

    from spectype.io import safeio

    raws = [Path(f).read_bytes() for f in files[:n]]
    raws = [r for r in raws if r[:2] == b"\x1f\x8b"]
    inflaters = {
        "zlib, as spectype reads (safeio._inflate)": lambda r: safeio._inflate("x", r, 2**31, None),
        "zlib gzip.decompress": gzip.decompress,
    }
    for mod, label in (("isal.igzip", "isal igzip"), ("zlib_ng.gzip_ng", "zlib-ng")):
        try:
            inflaters[label] = __import__(mod, fromlist=["decompress"]).decompress
        except ImportError:
            print(f"[inflate] {label}: not installed ({mod} does not import)")
    libdeflate = _libdeflate()
    if libdeflate is None:
        print("[inflate] libdeflate: no libdeflate shared library on this system")
    else:
        inflaters["libdeflate (ctypes)"] = libdeflate
    want = gzip.decompress(raws[0]) if raws else b""
    out = {}
    for name, fn in inflaters.items():
        if raws and fn(raws[0]) != want:
            raise RuntimeError(f"{name} inflates differently from zlib")
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            for r in raws:
                fn(r)
            times.append((time.perf_counter() - t0) / max(1, len(raws)))
        out[name] = 1e3 * sorted(times)[1]
    return out


def _libdeflate():
    """`raw -> bytes` through the system's libdeflate (single-member gzip), or None."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("deflate")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
    lib.libdeflate_gzip_decompress.argtypes = [
        ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t)]
    dec = lib.libdeflate_alloc_decompressor()

    def inflate(raw: bytes) -> bytes:
        size = int.from_bytes(raw[-4:], "little")  # ISIZE: the length mod 2**32
        buf = ctypes.create_string_buffer(size)
        got = ctypes.c_size_t()
        if lib.libdeflate_gzip_decompress(dec, raw, len(raw), buf, size, ctypes.byref(got)) != 0:
            raise ValueError("libdeflate could not inflate the data")
        return buf.raw[: got.value]

    return inflate


def _per_spectrum_forward_rate(pack: Path, model, n: int = 300) -> float:
    import h5py
    import torch

    with h5py.File(pack, "r") as h5:
        flux = h5["flux"][:n]
    t0 = time.perf_counter()
    with torch.inference_mode():
        for row in flux:
            model(torch.from_numpy(row[None]))
    return len(flux) / (time.perf_counter() - t0)


if __name__ == "__main__":
    main()
