"""inspect without a browser: views, corrections, resume, bad rows, templates, summary."""

from __future__ import annotations

import json
import urllib.request

import numpy as np
import pandas as pd
import pytest
from inspect_helpers import kesseli_like, lamost_like, result_table

from spectype.errors import ConfigError
from spectype.inspect import InspectConfig, InspectSession, sidecar_path, vetting_summary
from spectype.inspect.lines import vacuum_lines
from spectype.inspect.table import View, apply_view, load_results
from spectype.inspect.templates import TemplateLibrary, lsq_scale, lsq_tilt


def _session(files, **kw) -> InspectSession:
    return InspectSession(InspectConfig(results=files["table"], templates=files["templates"], **kw))


def test_views_order_and_filter(small_session_files):
    df = load_results(small_session_files["table"])
    assert list(apply_view(df, View())) == [0, 1, 2, 3, 4, 5]
    # low confidence first; the error row (no probability) leads
    assert list(apply_view(df, View(order="confidence"))) == [3, 1, 4, 2, 0, 5]
    assert list(apply_view(df, View(cls="g"))) == [0, 1, 5]
    # header K1 vs G, header G8 vs G agrees; the error row has no prediction to disagree with
    assert list(apply_view(df, View(disagree=True))) == [1]
    assert list(apply_view(df, View(order="disagreement"))) == [1, 0, 2, 3, 4, 5]
    assert list(apply_view(df, View(flag="low_snr"))) == [2]
    assert list(apply_view(df, View(order="class"))) == [2, 0, 1, 5, 4, 3]
    a = apply_view(df, View(sample=3, seed=1))
    assert len(a) == 3 and list(a) == list(apply_view(df, View(sample=3, seed=1)))
    assert sorted(apply_view(df, View(order="random", seed=2))) == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ConfigError, match="flags in this table: low_snr"):
        apply_view(df, View(flag="nope"))
    with pytest.raises(ConfigError, match="unknown order"):
        View(order="sideways")


def test_row_payload_has_spectrum_overlays_and_bad_pixels(small_session_files):
    s = _session(small_session_files)
    try:
        r = s.row(0)
        assert r["errors"] == []
        sp = r["spectrum"]
        assert len(sp["wave"]) == len(sp["flux"]) == 1500
        assert sp["n_bad"] == 20 and len(sp["bad"]) == 1
        lo, hi = sp["bad"][0]
        assert lo < sp["wave"][100] < sp["wave"][119] < hi
        roles = {t["role"]: t["name"] for t in r["templates"]}
        # header G2 agrees with the G prediction, so G2 is the centre; F runner-up -> nearest F
        assert roles == {"pred": "G2 V", "lower": "G1 V", "upper": "G3 V", "runner_up": "F8 V"}
        flux = np.array(sp["flux"], dtype=float)
        t = np.array(r["templates"][0]["flux"], dtype=float)
        ok = np.isfinite(t)
        # scaled to the spectrum: same level within the continuum slope difference
        assert 0.8 < np.median(t[ok]) / np.median(flux[ok]) < 1.25
        json.dumps(r, allow_nan=False)  # strict JSON: NaN became null
    finally:
        s.close()


def test_csv_results_relative_paths_and_catalog_columns(small_session_files, tmp_path):
    df = pd.read_parquet(small_session_files["table"])
    df["path"] = [str(p).replace(str(tmp_path) + "/", "") for p in df["path"]]  # relative
    df = df.drop(columns=["header_subclass", "snr", "runner_up", "pred_prob"])  # optional columns
    df.to_csv(tmp_path / "results.csv", index=False)
    cat = pd.DataFrame({"path": df["path"], "teff": np.arange(6) * 100.0 + 4000, "pred_class": "X"})
    cat.to_csv(tmp_path / "cat.csv", index=False)
    s = InspectSession(InspectConfig(results=tmp_path / "results.csv", catalog=tmp_path / "cat.csv",
                                     templates=small_session_files["templates"], order="confidence"))
    try:
        r = s.row(0)
        assert r["errors"] == [] and r["spectrum"] is not None  # relative to the table's folder
        assert r["fields"]["teff"] == 4000.0 and r["fields"]["pred_class"] == "G"  # own columns win
        assert s.vet(0, "accept")["user_class"] == "G"
    finally:
        s.close()
    assert sidecar_path(tmp_path / "results.csv").name == "results.vetted.parquet"
    with pytest.raises(ConfigError, match="lacks column"):
        InspectSession(InspectConfig(results=_no_index(tmp_path)))


def _no_index(tmp_path):
    p = tmp_path / "noindex.csv"
    pd.DataFrame({"path": ["a.fits"], "pred_class": ["G"]}).to_csv(p, index=False)
    return p


def test_bad_rows_give_messages_not_exceptions(small_session_files, tmp_path):
    junk = tmp_path / "junk.fits"
    junk.write_bytes(b"SIMPLE  =                    T" + b"\x00" * 100)
    good = small_session_files["files"][0]
    table = result_table([
        {"path": tmp_path / "gone.fits"},
        {"path": junk},
        {"path": good, "index": 7},
        {"path": good, "pred_class": None, "status": "error", "error": "window not covered"},
    ], tmp_path / "bad.parquet")
    s = InspectSession(InspectConfig(results=table, templates=small_session_files["templates"]))
    try:
        msgs = [s.row(i)["errors"] for i in range(4)]
    finally:
        s.close()
    assert "gone.fits: file not found" in msgs[0][0]
    assert "junk.fits" in msgs[1][0]
    assert "no spectrum with index 7" in msgs[2][0]
    assert msgs[3] == ["classify failed for this row: window not covered"]


def test_corrections_are_written_and_a_restart_resumes(small_session_files):
    files = small_session_files
    s = _session(files, order="confidence")  # positions: rows 3, 1, 4, 2, 0, 5
    try:
        assert s.info()["start"] == 0
        s.vet(0, "flag", "bad_spectrum")  # row 3, the missing file
        s.vet(1, "accept")  # row 1: G
        s.vet(2, "class", "M")  # row 4: K -> M3
        s.vet(2, "subtype", 3)
        s.vet(2, "note", "TiO bands clear")
        with pytest.raises(ValueError, match="nothing to accept"):
            s.vet(0, "accept")
    finally:
        s.close()
    side = pd.read_parquet(sidecar_path(files["table"])).set_index("path")
    assert len(side) == 3
    f = files["files"]
    assert side.loc[str(f[1]), "user_class"] == "G"
    assert side.loc[str(f[3]), ["user_class", "user_subtype", "user_note"]].tolist() == ["M", 3.0, "TiO bands clear"]
    missing = [p for p in side.index if p.endswith("missing.fits")][0]
    assert side.loc[missing, "user_flag"] == "bad_spectrum" and pd.isna(side.loc[missing, "user_class"])
    assert side["vetted_at"].notna().all()

    again = _session(files, order="confidence")
    try:
        assert again.info()["start"] == 3  # rows 3, 1, 4 are done; row 2 is next
        assert again.row(2)["vetting"]["user_class"] == "M"
        # the overlay follows the user's class: M3 asked, none in the library -> nearest is K2
        assert again.row(2)["templates"][0]["name"] == "K2 V"
        again.vet(2, "clear")
        assert again.info()["start"] == 2
    finally:
        again.close()


def test_summary_agreement_and_confusion(small_session_files):
    s = _session(small_session_files)
    try:
        s.vet(0, "accept")  # G = G
        s.vet(1, "class", "K")  # G -> K
        s.vet(2, "accept")  # F = F
        s.vet(4, "class", "K")  # K = K
        s.vet(5, "flag", "not_a_star")
    finally:
        s.close()
    summary = vetting_summary(InspectConfig(results=small_session_files["table"]))
    assert (summary.n_vetted, summary.n_classified, summary.n_agree) == (5, 4, 3)
    assert summary.flags == {"not_a_star": 1}
    assert summary.confusion.loc["G", "K"] == 1 and summary.confusion.loc["G", "G"] == 1
    out = summary.text()
    assert "class agreement (model = user): 3/4 = 0.750" in out
    assert "confusion matrix" in out


def test_cli_summary(small_session_files):
    from typer.testing import CliRunner

    from spectype.cli import app

    table = small_session_files["table"]
    r = CliRunner().invoke(app, ["inspect", str(table), "--summary"])
    assert r.exit_code == 1 and "no corrections yet" in r.output
    s = _session(small_session_files)
    s.vet(0, "accept")
    s.close()
    r = CliRunner().invoke(app, ["inspect", str(table), "--summary"])
    assert r.exit_code == 0, r.output
    assert "vetted 1 of 6 rows" in r.output and "1/1 = 1.000" in r.output


def test_cli_serves_the_page(small_session_files):
    """`spectype inspect` prints the URL and serves until stopped."""
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "spectype", "inspect", str(small_session_files["table"]),
           "--port", "0", "--templates", str(small_session_files["templates"])]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "open http://" in line:
                break
        url = lines[-1].split("open ", 1)[1].split()[0]
        assert "6 of 6 rows (0 vetted, resuming at 1)" in lines[0], lines
        with urllib.request.urlopen(url + "api/info", timeout=10) as resp:
            assert json.loads(resp.read())["n_rows"] == 6
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_large_table_starts_without_reading_spectra(tmp_path):
    """100,000 rows over five files: start-up, views and one row read at most 1 + prefetch files."""
    files = [lamost_like(tmp_path / f"f{i}.fits", seed=i, n=300) for i in range(5)]
    n = 100_000
    rng = np.random.default_rng(0)
    classes = np.array(list("OBAFGKM"))
    df = pd.DataFrame({
        "path": [str(files[i % 5]) for i in range(n)],
        "index": np.zeros(n, dtype=int),
        "pred_class": classes[rng.integers(0, 7, n)],
        "pred_prob": rng.uniform(0.2, 1.0, n),
        "header_subclass": rng.choice(["G2", "K5", "A0", "M1", "Non"], n),
        "flag_low_snr": rng.uniform(size=n) < 0.1,
    })
    table = tmp_path / "big.parquet"
    df.to_parquet(table, index=False)
    s = InspectSession(InspectConfig(results=table, templates=None, order="confidence"))
    try:
        info = s.info()
        assert info["n_rows"] == n and s.loader.files_read == 0
        s.set_view(order="disagreement", cls="K", flag="low_snr")
        assert 0 < s.info()["n_view"] < n and s.loader.files_read == 0
        r = s.row(0)
        assert r["spectrum"] is not None and r["errors"] == []
        s.loader._pool.shutdown(wait=True)  # let the prefetch finish before counting
        assert 1 <= s.loader.files_read <= 1 + s.cfg.prefetch
    finally:
        s.close()


def test_template_choice_and_scale(tmp_path):
    lib = TemplateLibrary(kesseli_like(tmp_path / "k"))
    picks = {role: e.name for role, e in lib.choose("G", 0.0, "K")}
    assert picks == {"pred": "G0 V", "lower": "F9 V", "upper": "G1 V", "runner_up": "K2 V"}
    # G4 has only a giant; it is still the G4 template; the dwarf wins where both exist
    assert dict(lib.choose("G", 4.0, None))["pred"].name == "G4 III"
    assert lib.choose("C", None, "G") == []
    _, note = lib.overlays(np.linspace(4000, 5000, 50), np.ones(50), np.ones(50, bool), "C", None, "G")
    assert "carbon" in note
    _, note = TemplateLibrary(None).overlays(np.ones(3), np.ones(3), np.ones(3, bool), "G", 2.0, None)
    assert "--templates" in note
    t = np.linspace(1, 2, 100)
    good = np.ones(100, bool)
    good[:10] = False
    f = 3.0 * t
    f[:10] = 1e6  # masked garbage must not pull the scale
    assert lsq_scale(f, t, good) == pytest.approx(3.0)
    wave = np.linspace(4000, 8000, 100)
    tilted = t * (2.0 + 0.5 * (wave - 6000) / 2000) ** 2  # a smooth calibration slope
    tilted[:10] = 1e6
    np.testing.assert_allclose(lsq_tilt(wave, tilted, t, good)[10:], tilted[10:], rtol=1e-6)


def test_packaged_subset_overlays_and_rebuilds(tmp_path, monkeypatch):
    """The coarse subset is built by the user from their templates (nothing derived from the
    sample data is committed); once built it is used, and without it the library is empty."""
    import spectype.inspect.template_subset as ts
    import spectype.inspect.templates as tt

    monkeypatch.setattr(tt, "SUBSET", tmp_path / "absent.npz")
    assert len(TemplateLibrary.packaged()) == 0
    out = ts.build_subset(kesseli_like(tmp_path / "k"), tmp_path / "sub.npz")
    with np.load(out) as z:
        assert list(z["names"][:3]) == ["A0", "F8 V", "F9 V"] and z["flux"].dtype == np.float16
    monkeypatch.setattr(tt, "SUBSET", out)
    lib = TemplateLibrary.packaged()
    assert len(lib) >= 8 and "packaged" in lib.label
    assert {role: e.name for role, e in lib.choose("G", 2.0, "K")} == {
        "pred": "G2 V", "lower": "G1 V", "upper": "G3 V", "runner_up": "K2 V"}
    wave = 10 ** (3.5682 + 1e-4 * np.arange(3700))  # the LAMOST grid, finer than the subset
    flux = np.interp(wave, [3700, 9000], [2.0, 1.0])
    temps, note = lib.overlays(wave, flux, np.ones(wave.size, bool), "G", 2.0, "K")
    assert note is None and len(temps) == 4
    t = temps[0]["flux"]
    assert np.isfinite(t[(wave > 3700) & (wave < 9300)]).all()
    # interpolated, not a staircase of repeated bin values
    assert len(np.unique(t[1000:1100])) > 90


def test_line_markers_are_vacuum():
    groups = {g["key"]: g for g in vacuum_lines()}
    assert {"balmer", "cahk", "gband", "mgb", "nad", "halpha", "tio", "cah", "c2"} <= set(groups)
    ha = [ln["wave"] for ln in groups["halpha"]["lines"]][0]
    assert ha == pytest.approx(6564.6, abs=0.1)  # air 6562.8 -> vacuum


def test_http_routes(small_session_files):
    from spectype.inspect.app import InspectServer

    server = InspectServer(_session(small_session_files), port=0).start()
    try:
        def get(path):
            with urllib.request.urlopen(server.url + path, timeout=10) as resp:
                return resp.read()

        assert b"spectype inspect" in get("")
        assert len(get("static/plotly.min.js")) > 1_000_000
        info = json.loads(get("api/info"))
        assert info["n_rows"] == 6
        row = json.loads(get("api/row/3"))
        assert "file not found" in " ".join(row["errors"])
        req = urllib.request.Request(server.url + "api/vet", method="POST",
                                     data=json.dumps({"pos": 0, "action": "class", "value": "K"}).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert json.loads(resp.read())["vetting"]["user_class"] == "K"
        bad = urllib.request.Request(server.url + "api/vet", method="POST",
                                     data=json.dumps({"pos": 0, "action": "class", "value": "Q"}).encode())
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(bad, timeout=10)
        assert exc.value.code == 400
    finally:
        server.stop()
