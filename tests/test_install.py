"""Installs anywhere: build the wheel, install it (no deps) into a temporary target outside the
repository, and run classify, train and simulate from another directory with the project's
interpreter. Catches files that only exist in the checkout (configs, protocols, the shipped
model) and paths derived from the repository layout.

About 30 s of CPU on 2 cores (one wheel build, a handful of interpreter starts); minutes of
wall time when the machine is shared.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # in the suite; ~30 s of CPU, more wall time on a busy machine


def _backend_missing() -> str | None:
    if importlib.util.find_spec("pip") is None:
        return "pip is not installed in this interpreter"
    from importlib.metadata import PackageNotFoundError, version

    try:  # not imported here: importing setuptools in the test process upsets distutils
        found = version("setuptools")
    except PackageNotFoundError:
        return "setuptools is not installed (pip install -e '.[dev]')"
    if int(found.split(".")[0]) < 77:
        return f"setuptools {found} < 77 cannot build this pyproject (pip install -e '.[dev]')"
    return None


def _write_lamost(path: Path, subclass: str, obsid: int, slope: float, seed: int) -> None:
    """LAMOST image layout (flux, ivar, wavelength) covering the model grid, 3,690-9,200 Å."""
    wave = 10 ** (np.log10(3690.0) + 4e-4 * np.arange(1000))
    rng = np.random.default_rng(seed)
    flux = 2.0 + slope * (wave - 6000.0) / 3000.0 + 0.05 * rng.standard_normal(wave.size)
    rows = np.array([flux, np.full(wave.size, 100.0), wave], dtype=np.float32)
    hdr = fits.Header()
    for k, v in {"TELESCOP": "LAMOST", "DATA_V": "LAMOST DR9", "OBSID": obsid, "CLASS": "STAR",
                 "SUBCLASS": subclass, "SNRG": 30.0, "SNRI": 30.0, "Z": 0.0, "VACUUM": True,
                 "EXTEN0": "Flux, Inverse, Wavelength"}.items():
        hdr[k] = v
    fits.PrimaryHDU(rows, header=hdr).writeto(path)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(run, workdir): `run(*args)` runs `python -m spectype ARGS` from the installed wheel."""
    reason = _backend_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("install")
    # Build from a clean copy so the checkout gets no build/ or egg-info litter.
    src = root / "src-copy"
    (src / "src").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        (src / name).write_bytes((REPO / name).read_bytes())
    import shutil

    shutil.copytree(REPO / "src" / "spectype", src / "src" / "spectype",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"),
                    str(src)], check=True, capture_output=True, timeout=300)
    (wheel,) = (root / "dist").glob("spectype-*.whl")
    target = root / "site"
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    work = root / "elsewhere"  # no ../shared/data, no configs/ here
    work.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPECTYPE_DATA", "SPECTYPE_SHARED_DATA", "PYTHONPATH")}
    env["PYTHONPATH"] = str(target)

    def run(*args, check=True):
        r = subprocess.run([sys.executable, "-m", "spectype", *map(str, args)], cwd=work, env=env,
                           capture_output=True, text=True, timeout=300)
        if check:
            assert r.returncode == 0, f"spectype {' '.join(map(str, args))}:\n{r.stdout}\n{r.stderr}"
        return r

    where = subprocess.run([sys.executable, "-c", "import spectype; print(spectype.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(target)), where.stdout  # not the checkout
    return run, work


def test_installed_version_and_help(installed):
    run, _ = installed
    assert "spectype" in run("--version").stdout
    assert "fetch" in run("-h").stdout


def test_installed_classify_and_train(installed):
    run, work = installed
    files = work / "spectra"
    files.mkdir()
    obsid = 1000
    for cls, slope, n in (("A5", -1.0, 8), ("G5", 0.0, 8), ("M5", 1.0, 8)):
        for _ in range(n):
            obsid += 1
            _write_lamost(files / f"spec-{obsid}.fits", cls, obsid, slope, obsid)
    # classify with the model shipped inside the wheel; 2 reader processes: the batch engine's
    # spawned workers import spectype from the wheel too
    run("classify", files, "-o", "out.csv", "-j", "2", "-q")
    text = (work / "out.csv").read_text()
    assert text.count(",ok,") == 24, text[:500]
    # a pack, then train with a packaged config named as the docs do (configs/ is not here)
    run("catalog", files, "-o", "cat.parquet", "-j", "1", "-q")
    run("build-dataset", "cat.parquet", "-o", "pack.h5", "-j", "1", "-q")
    r = run("train", "--config", "configs/cnn1d_quick.yaml", "--data", "pack.h5", "-o", "run",
            "--set", "epochs=1", "--device", "cpu", "-q")
    assert (work / "run" / "best" / "model.safetensors").is_file(), r.stdout


def test_installed_data_root_errors_name_real_options(installed):
    run, _ = installed
    r = run("simulate", "-o", "s.h5", "--per-class", "1", check=False)
    assert r.returncode == 2 and "--data-root" in r.stderr and "library-root" not in r.stderr
    r = run("demo", check=False)
    assert r.returncode == 2 and "--data-root" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.shared
def test_installed_simulate(installed, shared_data):
    run, work = installed
    run("simulate", "--classes", "A,C", "--per-class", "3", "--libraries", "boss",
        "--n-profiles", "4", "-j", "1", "-q", "-o", "sims.h5", "--data-root", shared_data)
    assert (work / "sims.h5").stat().st_size > 10_000
