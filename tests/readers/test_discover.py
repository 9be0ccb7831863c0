"""Directory expansion rules."""

from __future__ import annotations

import pytest

from spectype.errors import SpectrumReadError
from spectype.io.discover import iter_spectrum_files


def test_scan_skips_docs_hidden_and_byproducts(tmp_path):
    keep = ["a.fits", "b.fits.gz", "sub/c.dat", "sub/deeper/t030l50p00.rbn", "x.csv"]
    skip = [
        "ReadMe",
        "README.md",
        "notes.md",
        "fit.log",
        "tool.py",
        ".hidden.fits",
        ".git/d.fits",
        "t030l50p00.rbx",
        "sub/t060l10p00.rec",
        "backup.fits~",
    ]
    for name in keep + skip:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_spectrum_files(tmp_path)]
    assert found == sorted(keep)
    shallow = [p.name for p in iter_spectrum_files(tmp_path, recursive=False)]
    assert shallow == ["a.fits", "b.fits.gz", "x.csv"]
    # explicit files are kept whatever their name; duplicates collapse
    both = list(
        iter_spectrum_files([tmp_path / "ReadMe", tmp_path / "a.fits", tmp_path / "a.fits"])
    )
    assert [p.name for p in both] == ["ReadMe", "a.fits"]


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(SpectrumReadError, match="no such file"):
        list(iter_spectrum_files(tmp_path / "nope"))


@pytest.mark.shared
def test_scan_of_shared_data(shared_data):
    files = list(iter_spectrum_files(shared_data / "libraries" / "mkclass_libnor36"))
    assert sum(p.suffix == ".rbn" for p in files) == 174
    assert not any(p.suffix in (".rbx", ".log") for p in files)
    assert files == sorted(files)
