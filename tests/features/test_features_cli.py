from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from spectype.cli import app
from spectype.testing import write_lamost_table


def test_features_command_writes_a_figure(tmp_path: Path):
    spec = write_lamost_table(tmp_path / "s.fits.gz", n=3909, gz=True, OBSID=1, SUBCLASS="G2")
    out = tmp_path / "figs" / "s.png"
    res = CliRunner().invoke(app, ["features", str(spec), "-o", str(out), "--reference"])
    assert res.exit_code == 0, res.output
    with Image.open(out) as img:  # a real PNG, wide enough for flux + 5 panels
        assert img.format == "PNG" and img.size[0] > 1000
    assert list(out.parent.iterdir()) == [out], "no temporary files left behind"


def test_features_command_bad_file_names_it_and_writes_nothing(tmp_path: Path):
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"SIMPLE  =                    T")
    out = tmp_path / "x.png"
    res = CliRunner().invoke(app, ["features", str(bad), "-o", str(out)])
    assert res.exit_code == 2
    assert "broken.fits" in res.output
    assert not out.exists()


def test_features_command_index_out_of_range(tmp_path: Path):
    spec = write_lamost_table(tmp_path / "s.fits", n=3909, OBSID=1, SUBCLASS="A0")
    res = CliRunner().invoke(app, ["features", str(spec), "-o", str(tmp_path / "x.png"), "--index", "3"])
    assert res.exit_code == 2
    assert "holds 1 spectra; --index 3 is out of range" in res.output
