"""The inspect page in a real browser (headless Debian Chromium driven by Selenium).

Steps through generated spectra with the keyboard, sets corrections, checks the sidecar, the
overlay and line markers, restarts the server and checks that it resumes at the right row.
Set SPECTYPE_WRITE_FIGURES=1 to refresh docs/figures/inspect*.png from these runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
from inspect_browser import fresh_profile, press, start_browser, wait_idle

from spectype.inspect import InspectConfig, InspectSession, sidecar_path
from spectype.inspect.app import InspectServer

FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures"

PLOT_STATE = """
const gd = document.getElementById('plot');
const shapes = (gd.layout && gd.layout.shapes) || [];
return {
  pos: inspect.pos,
  traces: (gd.data || []).map(t => t.name),
  lineShapes: shapes.filter(s => (s.name || '').startsWith('line:')).map(s => s.name),
  bandShapes: shapes.filter(s => (s.name || '').startsWith('band:')).length,
  badShapes: shapes.filter(s => s.name === 'bad').length,
  svgTraces: document.querySelectorAll('#plot .scatterlayer .trace').length,
  svgShapes: document.querySelectorAll('#plot .shapelayer path').length,
  errors: document.getElementById('errors').hidden ? '' : document.getElementById('errors').textContent,
  vetting: document.getElementById('vetting').textContent,
  lastError: inspect.lastError,
};
"""


def _keep_figure(src: Path, name: str) -> None:
    if os.environ.get("SPECTYPE_WRITE_FIGURES") == "1":
        FIGURES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, FIGURES / name)


@pytest.fixture
def browser():
    b = start_browser(fresh_profile())
    yield b
    b.quit()


def _serve(files) -> InspectServer:
    cfg = InspectConfig(results=files["table"], templates=files["templates"])
    return InspectServer(InspectSession(cfg), port=0).start()


def test_keyboard_session_sidecar_and_resume(small_session_files, browser, tmp_path):
    files = small_session_files
    server = _serve(files)
    try:
        browser.get(server.url)
        wait_idle(browser)
        st = browser.execute_script(PLOT_STATE)
        assert st["pos"] == 0 and st["lastError"] is None
        # spectrum + G2 (header G2 agrees), G1, G3 and the runner-up F
        assert st["traces"][-1] == "spectrum" and len(st["traces"]) == 5  # drawn on top
        assert "G2 V (template)" in st["traces"] and any("runner-up" in t for t in st["traces"])
        assert st["svgTraces"] == 5  # drawn, not just in the data
        assert any(n.startswith("line:balmer:") for n in st["lineShapes"])
        assert any(n.startswith("line:nad:") for n in st["lineShapes"])
        assert st["badShapes"] == 1 and st["svgShapes"] >= len(st["lineShapes"]) + 1

        press(browser, "a")  # accept G, next
        press(browser, "x")  # row 1: not a star, next
        assert browser.execute_script(PLOT_STATE)["pos"] == 2
        press(browser, "G5")  # row 2 (predicted F): class G (Shift+g), subtype 5
        st = browser.execute_script(PLOT_STATE)
        assert st["pos"] == 2 and "user: G5" in st["vetting"]
        # the overlay follows the correction (G5 asked; the library's nearest is G4 III)
        assert [t for t in st["traces"] if t.endswith("(template)")] == ["G4 III (template)"]
        press(browser, "/")
        press(browser, "double-lined?\n")
        assert "note: “double-lined?”" in browser.execute_script(PLOT_STATE)["vetting"]
        browser.save_screenshot(str(tmp_path / "inspect_generated.png"))
        press(browser, "n")  # row 3: the missing file
        st = browser.execute_script(PLOT_STATE)
        assert st["pos"] == 3 and "file not found" in st["errors"] and st["traces"] == []
        press(browser, "b")  # bad spectrum, next: the session goes on past it
        assert browser.execute_script(PLOT_STATE)["pos"] == 4
        press(browser, "l")  # every line marker off, then on again
        assert browser.execute_script(PLOT_STATE)["lineShapes"] == []
        press(browser, "l")
        assert len(browser.execute_script(PLOT_STATE)["lineShapes"]) > 5
        press(browser, "pn")
        assert browser.execute_script(PLOT_STATE)["pos"] == 4
        # the order bar: low confidence first (rows 3, 1, 4, 2, 0, 5) opens at its first
        # unvetted row, row 4 at position 2
        browser.execute_script("document.getElementById('order').value = 'confidence';"
                               "document.getElementById('apply').click();")
        wait_idle(browser)
        st = browser.execute_script(PLOT_STATE)
        assert browser.execute_script("return inspect.info.view.order") == "confidence"
        assert st["pos"] == 2 and st["vetting"] == "not vetted"
    finally:
        server.stop()
    _keep_figure(tmp_path / "inspect_generated.png", "inspect_generated.png")

    side = pd.read_parquet(sidecar_path(files["table"]))
    rec = {Path(p).name: r for p, r in zip(side["path"], side.to_dict("records"), strict=True)}
    assert set(rec) == {"s0.fits", "s1.fits", "s2.fits", "missing.fits"}
    assert rec["s0.fits"]["user_class"] == "G" and pd.isna(rec["s0.fits"]["user_flag"])
    assert rec["s1.fits"]["user_flag"] == "not_a_star"
    assert (rec["s2.fits"]["user_class"], rec["s2.fits"]["user_subtype"]) == ("G", 5.0)
    assert rec["s2.fits"]["user_note"] == "double-lined?"
    assert rec["missing.fits"]["user_flag"] == "bad_spectrum"

    server = _serve(files)  # a restart resumes at the first unvetted row (position 4)
    try:
        browser.get(server.url)
        wait_idle(browser)
        st = browser.execute_script(PLOT_STATE)
        assert st["pos"] == 4 and st["vetting"] == "not vetted"
        assert browser.find_element("id", "prediction").text.startswith("K4")  # pred_subtype 'K4'
        press(browser, "a")  # accepting takes the model's subtype too
    finally:
        server.stop()
    side = pd.read_parquet(sidecar_path(files["table"]))
    s3 = side[side["path"].str.endswith("s3.fits")]
    assert (s3["user_class"].item(), s3["user_subtype"].item()) == ("K", 4.0)


@pytest.mark.shared
def test_real_lamost_spectrum_screenshot(shared_data, browser, tmp_path):
    """The README figure: real LAMOST spectra classified by the shipped model, Kesseli overlays."""
    import spectype

    kesseli = shared_data / "libraries" / "kesseli"
    lamost = sorted((shared_data / "lamost" / "dr10").glob("spec-*.fits.gz"))[:6]
    if not kesseli.is_dir() or not lamost:
        pytest.skip(f"no Kesseli templates or LAMOST DR10 spectra under {shared_data}")
    df = spectype.classify([str(p) for p in lamost])
    df = df.sort_values("snr", ascending=False).reset_index(drop=True)  # the clearest first
    table = tmp_path / "real.parquet"
    df.to_parquet(table, index=False)
    server = InspectServer(InspectSession(InspectConfig(results=table, templates=kesseli)), port=0).start()
    try:
        browser.get(server.url)
        wait_idle(browser)
        st = browser.execute_script(PLOT_STATE)
        assert st["errors"] == "" and len(st["traces"]) >= 4, st
        assert st["lineShapes"]
        y = "return document.getElementById('plot').data[0].y.slice(1000, 1010)"
        plain = browser.execute_script(y)
        press(browser, "m")  # templates follow the spectrum's flux-calibration slope
        assert browser.execute_script("return inspect.matchSlope") is True
        assert browser.execute_script(y) != plain
        browser.save_screenshot(str(tmp_path / "inspect.png"))
    finally:
        server.stop()
    _keep_figure(tmp_path / "inspect.png", "inspect.png")
