"""What to fetch: LAMOST obsids and SDSS plate-mjd-fiber triples, read from a list or a
catalogue, and the URL and file name of each.

Accepted inputs:
- a text file, one target a line: an obsid (`993612097`), or an SDSS `plate-mjd-fiber`
  (`618-52049-372`, `spec-0618-52049-0372`, or three numbers separated by commas/spaces);
  blank lines and `#` comments are skipped;
- a CSV/ECSV/Parquet/FITS catalogue with an `obsid` column (LAMOST, e.g. dr10_params.csv) or
  `plate`, `mjd` and `fiber`/`fiberid` columns (SDSS; an optional `run2d` column picks the
  reduction), optionally a `url` column (fetched as given) and a `md5`/`sha256`/`checksum`
  column (verified after download).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

# Public URL patterns (README "Fetching spectra"). LAMOST serves a gzipped FITS per obsid; a
# token, where a release needs one, goes in the `token` query parameter.
LAMOST_URL = "https://www.lamost.org/dr10/v2.0/spectrum/fits/{obsid}"
# SDSS DR17 Science Archive Server, "lite" spectra (no per-exposure HDUs). SDSS-I/II plates
# live under sdss/ (run2d 26, SEGUE 103/104), BOSS/eBOSS plates under eboss/ (v5_13_2).
SDSS_URL = (
    "https://data.sdss.org/sas/dr17/{sas_dir}/spectro/redux/{run2d}/spectra/lite/"
    "{plate:04d}/spec-{plate:04d}-{mjd:05d}-{fiber:04d}.fits"
)
DEFAULT_URLS = {"lamost": LAMOST_URL, "sdss": SDSS_URL}
FIRST_BOSS_PLATE = 3509  # SDSS-III BOSS plates are reduced as v5_13_2, earlier ones as 26


@dataclass(frozen=True)
class Target:
    """One spectrum to fetch."""

    survey: str  # "lamost" or "sdss"
    fields: tuple  # sorted (name, value) pairs: obsid, or plate/mjd/fiber/run2d
    url: str | None = None  # given by the catalogue; overrides the template
    checksum: str | None = None  # "md5:hex" or "sha256:hex"

    @property
    def values(self) -> dict:
        return dict(self.fields)

    @property
    def key(self) -> str:
        v = self.values
        if self.survey == "lamost":
            return str(v["obsid"])
        return f"{v['plate']}-{v['mjd']}-{v['fiber']}"

    @property
    def stem(self) -> str:
        """File name without suffix (the suffix follows the content: .fits or .fits.gz)."""
        v = self.values
        if self.survey == "lamost":
            return f"lamost-{v['obsid']}"
        return f"spec-{v['plate']:04d}-{v['mjd']:05d}-{v['fiber']:04d}"

    def resolve_url(self, templates: dict[str, str], token: str | None = None) -> str:
        """The download URL: the catalogue's own, else the survey's template filled in."""
        if self.url:
            return self.url
        template = templates[self.survey]
        v = self.values
        if self.survey == "sdss":
            if not v.get("run2d"):
                v["run2d"] = "v5_13_2" if v["plate"] >= FIRST_BOSS_PLATE else "26"
            v["sas_dir"] = "eboss" if str(v["run2d"]).startswith("v") else "sdss"
        try:
            url = template.format(token=token or "", **v)
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(
                f"--base-url {template!r} cannot be filled for a {self.survey} target "
                f"({self.key}): {exc!r}; {self.survey} templates may use "
                f"{', '.join('{' + k + '}' for k in v)}"
            ) from None
        if token and "{token}" not in template:
            url += ("&" if "?" in url else "?") + "token=" + token
        return url


def _checksum(value) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip().lower()
    if not text:
        return None
    if ":" in text:
        algo, _, digest = text.partition(":")
    else:  # bare hex: the length says which
        algo = {32: "md5", 64: "sha256"}.get(len(text), "")
        digest = text
    if algo not in ("md5", "sha256") or not re.fullmatch(r"[0-9a-f]+", digest):
        raise ConfigError(f"checksum {value!r} is neither md5 nor sha256 hex (optionally 'sha256:HEX')")
    return f"{algo}:{digest}"


_SDSS_LINE = re.compile(r"^(?:spec-)?(\d+)[-,\s]+(\d+)[-,\s]+(\d+)(?:\.fits(?:\.gz)?)?$")


def _from_text(path: Path) -> list[Target]:
    out = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.lower() in ("obsid", "plate,mjd,fiber", "plate mjd fiber"):
            continue
        if line.isdigit():
            out.append(Target("lamost", (("obsid", int(line)),)))
            continue
        m = _SDSS_LINE.match(line)
        if not m:
            raise ConfigError(
                f"{path}:{n}: {raw.strip()!r} is neither an obsid nor plate-mjd-fiber; one "
                "target a line, e.g. 993612097 or 618-52049-372"
            )
        plate, mjd, fiber = (int(g) for g in m.groups())
        out.append(Target("sdss", (("fiber", fiber), ("mjd", mjd), ("plate", plate))))
    return out


def _read_table(path: Path):
    import pandas as pd

    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith(".parquet"):
        return pd.read_parquet(path)
    if suffix.endswith((".fits", ".fit", ".fits.gz", ".ecsv")):
        from astropy.table import Table

        return Table.read(path).to_pandas()
    return pd.read_csv(path, comment="#")


def _from_table(path: Path) -> list[Target]:
    df = _read_table(path)
    cols = {str(c).lower(): c for c in df.columns}
    fiber_col = cols.get("fiber") or cols.get("fiberid")
    url_col = cols.get("url")
    sum_col = next((cols[c] for c in ("sha256", "md5", "checksum") if c in cols), None)
    sum_prefix = "sha256:" if sum_col == cols.get("sha256") else "md5:" if sum_col == cols.get("md5") else ""
    if "obsid" in cols:
        survey = "lamost"
    elif {"plate", "mjd"} <= set(cols) and fiber_col is not None:
        survey = "sdss"
    else:
        raise ConfigError(
            f"{path}: no 'obsid' column (LAMOST) and no 'plate', 'mjd', 'fiber' columns (SDSS); "
            f"columns are {', '.join(map(str, df.columns[:20]))}"
        )
    out = []
    for i, row in enumerate(df.itertuples(index=False)):
        r = dict(zip(df.columns, row, strict=True))
        try:
            if survey == "lamost":
                fields = (("obsid", int(r[cols["obsid"]])),)
            else:
                f = [("fiber", int(r[fiber_col])), ("mjd", int(r[cols["mjd"]])), ("plate", int(r[cols["plate"]]))]
                if "run2d" in cols and str(r[cols["run2d"]]).strip() not in ("", "nan", "None"):
                    f.append(("run2d", str(r[cols["run2d"]]).strip()))
                fields = tuple(sorted(f))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: row {i + 1}: not an integer id ({exc})") from None
        digest = r[sum_col] if sum_col is not None else None
        digest = None if digest is None or str(digest).strip() in ("", "nan") else sum_prefix + str(digest).strip()
        url = str(r[url_col]).strip() if url_col is not None and str(r[url_col]).strip() not in ("", "nan") else None
        out.append(Target(survey, fields, url=url, checksum=_checksum(digest)))
    return out


TABLE_SUFFIXES = (".csv", ".parquet", ".ecsv", ".fits", ".fit", ".tsv")


def read_targets(source: str | os.PathLike, checksums: str | os.PathLike | None = None) -> list[Target]:
    """Targets from a list or catalogue (module doc), without duplicates, in input order.

    checksums: an optional `md5sum`/`sha256sum`-style file ("HEX  NAME" lines), matched on
    the file name without its .fits/.fits.gz suffix (lamost-OBSID, spec-PLATE-MJD-FIBER)
    or on the bare id (OBSID, PLATE-MJD-FIBER).
    """
    path = Path(source)
    if not path.is_file():
        raise ConfigError(f"{path}: target list not found (a .txt of obsids or a CSV/Parquet catalogue)")
    name = path.name.lower().removesuffix(".gz")
    targets = _from_table(path) if name.endswith(TABLE_SUFFIXES) else _from_text(path)
    seen, unique = set(), []
    for t in targets:
        if (t.survey, t.key) not in seen:
            seen.add((t.survey, t.key))
            unique.append(t)
    if checksums is not None:
        sums = read_checksum_file(checksums)
        unique = [t if t.checksum or not (sums.get(t.stem) or sums.get(t.key)) else
                  Target(t.survey, t.fields, t.url, sums.get(t.stem) or sums.get(t.key))
                  for t in unique]
    return unique


def read_checksum_file(path: str | os.PathLike) -> dict[str, str]:
    """{file stem: "algo:hex"} from "HEX  NAME" lines (md5sum / sha256sum output)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: checksum file not found")
    out = {}
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            raise ConfigError(f"{path}:{n}: expected 'HEX  NAME', got {raw!r}")
        digest, name = parts[0], Path(parts[1].lstrip("*")).name
        stem = name.removesuffix(".gz").removesuffix(".fits").removesuffix(".fit")
        out[stem] = _checksum(digest)
    return out
