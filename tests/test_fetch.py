"""`spectype fetch` against a local HTTP server on 127.0.0.1 serving generated FITS files:
resume with Range, truncation, 404, slow answers, flaky 503s, tokens, checksums, HTML pages.
No test touches the internet; retries and timeouts are small so everything finishes fast."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from spectype.cli import app
from spectype.errors import ConfigError
from spectype.fetch import (
    FetchOptions,
    HttpOptions,
    RateLimiter,
    fetch_spectra,
    parse_base_urls,
    read_targets,
)
from spectype.io import read_all
from spectype.io.discover import iter_spectrum_files
from spectype.testing import write_lamost_table

FAST = HttpOptions(timeout=0.5, retries=2, backoff=0.01, max_backoff=0.05)


class Server:
    """Routes /MODE/OBSID; MODE is ok, trunc (first answer cut in half), slow (first answer
    late), flaky (first answer 503), norange (ignores Range), html, auth (needs token=s3cret)."""

    def __init__(self, files: dict[str, bytes]):
        self.files = files
        self.log: list[tuple[str, str | None]] = []  # (path, Range header)
        self.seen: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                rng = self.headers.get("Range")
                server.log.append((url.path, rng))
                mode, _, key = url.path.strip("/").partition("/")
                n = server.seen[url.path] = server.seen.get(url.path, 0) + 1
                body = server.files.get(key)
                if body is None:
                    return self.send_error(404, "no such spectrum")
                if mode == "auth" and urllib.parse.parse_qs(url.query).get("token") != ["s3cret"]:
                    return self.send_error(403, "token required")
                if mode == "flaky" and n == 1:
                    return self.send_error(503, "busy")
                if mode == "html":
                    page = b"<html><body>please log in</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    return self.wfile.write(page)
                if mode == "slow" and n == 1:
                    time.sleep(1.5)  # longer than the client's timeout
                start = 0
                if rng and mode != "norange":
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                chunk = body[start:]
                self.send_header("Content-Type", "application/fits")
                self.send_header("Content-Length", str(len(chunk)))
                self.end_headers()
                if mode == "trunc" and n == 1:  # promise everything, send half, hang up
                    self.wfile.write(chunk[: len(chunk) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def spectra(tmp_path) -> dict[str, bytes]:
    """Three gzipped LAMOST-layout FITS files by obsid (bytes as a server would send them)."""
    (tmp_path / "src").mkdir()
    out = {}
    for obsid in (101, 202, 303):
        path = write_lamost_table(tmp_path / "src" / f"{obsid}.fits.gz", gz=True, OBSID=obsid)
        out[str(obsid)] = path.read_bytes()
    return out


def _list(tmp_path: Path, ids) -> Path:
    p = tmp_path / "ids.txt"
    p.write_text("# obsids\n" + "\n".join(map(str, ids)) + "\n")
    return p


def _opts(server: Server, mode: str = "ok", **kw) -> FetchOptions:
    kw.setdefault("http", FAST)
    return FetchOptions(urls=parse_base_urls([f"lamost={server.url}/{mode}/{{obsid}}"]), rate=0,
                        workers=2, progress=False, **kw)


def test_fetch_list_into_a_folder_classify_reads(tmp_path, spectra):
    with Server(spectra) as srv:
        res = fetch_spectra(_list(tmp_path, [101, 202, 999]), tmp_path / "out", _opts(srv))
    assert (res.count("fetched"), res.count("failed")) == (2, 1)
    fail = res.failed[0]
    assert fail["id"] == "999" and "404" in fail["error"] and fail["attempts"] == 1  # 404: no retry
    got = tmp_path / "out" / "lamost-101.fits.gz"
    assert got.read_bytes() == spectra["101"]
    # The folder holds spectra only: no partial files, the manifest is skipped by readers.
    files = list(iter_spectrum_files(tmp_path / "out"))
    assert sorted(f.name for f in files) == ["lamost-101.fits.gz", "lamost-202.fits.gz"]
    assert [int(read_all(f)[0].meta.header["OBSID"]) for f in files] == [101, 202]
    doc = json.loads((tmp_path / "out" / "fetch_manifest.json").read_text())
    assert doc["complete"] and doc["counts"] == {"fetched": 2, "present": 0, "failed": 1}


def test_second_run_skips_complete_files(tmp_path, spectra):
    ids = _list(tmp_path, [101, 202])
    with Server(spectra) as srv:
        fetch_spectra(ids, tmp_path / "out", _opts(srv))
        n = len(srv.log)
        res = fetch_spectra(ids, tmp_path / "out", _opts(srv))
    assert res.count("present") == 2 and len(srv.log) == n  # no request at all


def test_truncated_answer_resumes_with_range(tmp_path, spectra):
    with Server(spectra) as srv:
        res = fetch_spectra(_list(tmp_path, [303]), tmp_path / "out", _opts(srv, "trunc"))
    assert res.count("fetched") == 1, res.items
    assert (tmp_path / "out" / "lamost-303.fits.gz").read_bytes() == spectra["303"]
    (first, r1), (second, r2) = srv.log
    assert r1 is None and r2 == f"bytes={len(spectra['303']) // 2}-"  # asked only for the rest
    assert res.items[0]["attempts"] == 2


def test_partial_file_from_an_earlier_run_is_continued(tmp_path, spectra):
    out = tmp_path / "out"
    out.mkdir()
    body = spectra["202"]
    (out / ".lamost-202.part").write_bytes(body[:1000])  # as a killed run leaves it
    with Server(spectra) as srv:
        fetch_spectra(_list(tmp_path, [202]), out, _opts(srv))
    assert srv.log == [("/ok/202", "bytes=1000-")]
    assert (out / "lamost-202.fits.gz").read_bytes() == body
    assert not list(out.glob(".*.part"))


def test_server_without_range_support_restarts_cleanly(tmp_path, spectra):
    out = tmp_path / "out"
    out.mkdir()
    (out / ".lamost-202.part").write_bytes(b"garbage that is no prefix")
    with Server(spectra) as srv:
        fetch_spectra(_list(tmp_path, [202]), out, _opts(srv, "norange"))
    assert (out / "lamost-202.fits.gz").read_bytes() == spectra["202"]


def test_slow_and_flaky_answers_are_retried(tmp_path, spectra):
    with Server(spectra) as srv:
        slow = fetch_spectra(_list(tmp_path, [101]), tmp_path / "a", _opts(srv, "slow"))
        flaky = fetch_spectra(_list(tmp_path, [101]), tmp_path / "b", _opts(srv, "flaky"))
    assert slow.count("fetched") == 1 and slow.items[0]["attempts"] == 2
    assert flaky.count("fetched") == 1 and flaky.items[0]["attempts"] == 2


def test_retries_are_bounded(tmp_path):
    import socket

    with socket.socket() as s:  # a port nothing listens on: every try is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    opts = FetchOptions(urls=parse_base_urls([f"http://127.0.0.1:{port}/{{obsid}}"]), rate=0,
                        progress=False, http=FAST)
    res = fetch_spectra(_list(tmp_path, [101]), tmp_path / "out", opts)
    assert res.count("failed") == 1 and res.items[0]["attempts"] == FAST.retries + 1
    assert "connection failed" in res.items[0]["error"]
    assert not list((tmp_path / "out").glob("*101*"))


def test_token_and_html_pages(tmp_path, spectra, monkeypatch):
    ids = _list(tmp_path, [101])
    with Server(spectra) as srv:
        denied = fetch_spectra(ids, tmp_path / "a", _opts(srv, "auth"))
        monkeypatch.setenv("SPECTYPE_LAMOST_TOKEN", "s3cret")
        allowed = fetch_spectra(ids, tmp_path / "b", _opts(srv, "auth"))
        html = fetch_spectra(ids, tmp_path / "c", _opts(srv, "html"))
    assert "--token" in denied.items[0]["error"] and denied.items[0]["attempts"] == 1
    assert allowed.count("fetched") == 1
    assert "s3cret" not in (tmp_path / "b" / "fetch_manifest.json").read_text()  # redacted
    assert html.count("failed") == 1 and "not a FITS file" in html.items[0]["error"]
    assert not list((tmp_path / "c").glob("*lamost*"))


def test_checksums_from_a_catalogue(tmp_path, spectra):
    good = hashlib.sha256(spectra["101"]).hexdigest()
    cat = tmp_path / "cat.csv"
    cat.write_text(f"obsid,sha256,subclass\n101,{good},G2\n202,{'0' * 64},K1\n")
    with Server(spectra) as srv:
        res = fetch_spectra(cat, tmp_path / "out", _opts(srv))
    by_id = {i["id"]: i for i in res.items}
    assert by_id["101"]["status"] == "fetched"
    assert by_id["202"]["status"] == "failed" and "mismatch" in by_id["202"]["error"]
    assert not (tmp_path / "out" / "lamost-202.fits.gz").exists()


def test_sdss_targets_and_templates(tmp_path):
    lst = tmp_path / "sdss.txt"
    lst.write_text("spec-0618-52049-0372.fits\n4055,55359,596\n618 52049 372\n")
    t = read_targets(lst)
    assert [x.key for x in t] == ["618-52049-372", "4055-55359-596"]  # duplicates dropped
    urls = parse_base_urls(None)
    assert t[0].resolve_url(urls) == ("https://data.sdss.org/sas/dr17/sdss/spectro/redux/26/spectra/"
                                      "lite/0618/spec-0618-52049-0372.fits")
    assert t[1].resolve_url(urls).endswith(
        "/dr17/eboss/spectro/redux/v5_13_2/spectra/lite/4055/spec-4055-55359-0596.fits")
    assert t[0].stem == "spec-0618-52049-0372"
    cat = tmp_path / "sdss.csv"
    cat.write_text("PLATE,MJD,FIBERID,RUN2D\n2000,53000,1,104\n")
    (x,) = read_targets(cat)
    assert "/dr17/sdss/spectro/redux/104/spectra/lite/2000/" in x.resolve_url(urls)
    lamost = read_targets(_list(tmp_path, [5]))[0]
    assert lamost.resolve_url(urls, token="abc") == "https://www.lamost.org/dr10/v2.0/spectrum/fits/5?token=abc"
    with pytest.raises(ConfigError, match="obsid"):
        lamost.resolve_url(parse_base_urls(["https://x/{plate}"]))


def test_bad_lists_say_what_is_wrong(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("101\nnot-an-id\n")
    with pytest.raises(ConfigError, match="bad.txt:2"):
        read_targets(bad)
    cat = tmp_path / "c.csv"
    cat.write_text("ra,dec\n1,2\n")
    with pytest.raises(ConfigError, match="obsid"):
        read_targets(cat)


def test_rate_limiter_spaces_requests():
    lim = RateLimiter(50.0)
    t0 = time.monotonic()
    for _ in range(6):
        lim.wait()
    assert time.monotonic() - t0 >= 5 / 50 * 0.9


def test_cli_fetch(tmp_path, spectra):
    with Server(spectra) as srv:
        args = ["fetch", str(_list(tmp_path, [101, 404])), "-o", str(tmp_path / "out"), "-q",
                "--base-url", f"{srv.url}/ok/{{obsid}}", "--rate", "0", "--retries", "1",
                "--backoff", "0.01", "--timeout", "2"]
        r = CliRunner().invoke(app, args)
    assert r.exit_code == 1, r.output  # one failed
    assert "fetched 1" in r.output and "failed 1" in r.output
    r = CliRunner().invoke(app, ["fetch", str(tmp_path / "none.txt"), "-o", str(tmp_path / "o")])
    assert r.exit_code == 2 and "not found" in r.output


@pytest.mark.shared
def test_dr10_params_catalogue_reads(shared_data):
    targets = read_targets(shared_data / "lamost" / "dr10_params.csv")
    assert len(targets) > 10 and all(t.survey == "lamost" for t in targets)
    assert targets[0].resolve_url(parse_base_urls(None)).startswith("https://www.lamost.org/dr10/")


def test_gzip_body_is_fits(spectra):
    assert gzip.decompress(spectra["101"])[:9] == b"SIMPLE  ="


def test_sdss_download_named_like_the_archive(tmp_path, spectra):
    spectra = {**spectra, "618-52049-372": write_lamost_table(tmp_path / "plain.fits").read_bytes()}
    lst = tmp_path / "sdss.txt"
    lst.write_text("618-52049-372\n")
    with Server(spectra) as srv:
        opts = FetchOptions(urls=parse_base_urls([f"sdss={srv.url}/ok/{{plate}}-{{mjd}}-{{fiber}}"]),
                            rate=0, progress=False, http=FAST)
        res = fetch_spectra(lst, tmp_path / "out", opts)
    assert res.count("fetched") == 1
    assert [p.name for p in (tmp_path / "out").glob("spec-*")] == ["spec-0618-52049-0372.fits"]  # not gzip
