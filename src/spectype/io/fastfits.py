"""A minimal, read-only FITS view for the survey files we read by the million.

Why: astropy spends ~10 ms per LAMOST file, mostly parsing header-card values and building
table column objects; the arrays themselves cost microseconds. Survey files use a tiny subset
of FITS (simple images, binary tables with fixed-width numeric cells), so this module parses
exactly that subset straight from the (decompressed) bytes with numpy, and refuses everything
else by raising `Unsupported`, in which case callers fall back to astropy. It mimics the few
astropy HDUList/HDU attributes the survey readers use (`len`, `[i]`, `["NAME"]`, `in`,
`.header.get`, `.name`, `.data`, `.columns.names`).
"""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import numpy as np

BLOCK = 2880
CARD = 80


class Unsupported(Exception):
    """The file uses FITS features outside the subset parsed here: use astropy instead."""


_BITPIX = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
_TFORM = {"L": "i1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8", "A": "S"}
_TFORM_RE = re.compile(r"^\s*(\d*)([LBIJKEDA])\s*$")


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip magic."""
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise Unsupported(f"gzip stream is corrupt: {exc}") from exc
    return raw


_STRING_RE = re.compile(r"'((?:[^']|'')*)'")


def _parse_value(text: str):
    """A card's value field (after '= '), without its comment."""
    s = text.strip()
    if not s:
        return None
    if s[0] == "'":
        m = _STRING_RE.match(s)  # '' inside is an escaped quote
        if m is None:
            raise Unsupported("unterminated string in a header card")
        # Trailing and (as header_to_dict does for astropy) leading blanks dropped.
        return m.group(1).replace("''", "'").strip()
    value = s.split("/", 1)[0].strip()
    if value == "T":
        return True
    if value == "F":
        return False
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value.replace("D", "E").replace("d", "e"))
    except ValueError:
        pass
    if value.startswith("("):
        raise Unsupported("complex-valued header card")
    return value


def parse_header(buf: bytes, offset: int) -> tuple[dict, int]:
    """Parse the header starting at `offset`; return (cards, offset of the data)."""
    cards: dict = {}
    pos = offset
    n = len(buf)
    while True:
        if pos + CARD > n:
            raise Unsupported("header has no END card (truncated file)")
        card = buf[pos : pos + CARD].decode("ascii", errors="replace")
        pos += CARD
        key = card[:8].rstrip()
        if key == "END":
            break
        if key in ("", "COMMENT", "HISTORY", "CONTINUE") or card[8:10] != "= ":
            continue
        if key not in cards:  # FITS: the first occurrence of a keyword wins
            cards[key] = _parse_value(card[10:])
    data_start = -(-pos // BLOCK) * BLOCK
    return cards, data_start


class _Columns:
    def __init__(self, names: list[str]):
        self.names = names


class FastHDU:
    """One HDU: `.header` (dict), `.name`, `.data` (numpy; parsed on first access)."""

    def __init__(self, buf: bytes, header: dict, data_start: int, index: int):
        self._buf = buf
        self.header = header
        self._start = data_start
        self._data = None
        self.index = index
        self.name = str(header.get("EXTNAME", "PRIMARY" if index == 0 else "")).strip().upper()
        self.is_table = header.get("XTENSION") == "BINTABLE"
        if self.is_table:
            self.columns = _Columns(
                [str(header.get(f"TTYPE{i}", f"col{i}")).strip() for i in range(1, int(header.get("TFIELDS", 0)) + 1)]
            )
        elif header.get("XTENSION") not in (None, "IMAGE"):
            raise Unsupported(f"extension type {header.get('XTENSION')!r}")

    @property
    def data_size(self) -> int:
        h = self.header
        naxis = int(h.get("NAXIS", 0))
        if naxis == 0:
            return 0
        n = abs(int(h["BITPIX"])) // 8
        for i in range(1, naxis + 1):
            n *= int(h[f"NAXIS{i}"])
        n = (n + int(h.get("PCOUNT", 0))) * int(h.get("GCOUNT", 1))
        return n

    @property
    def data(self):
        if self._data is None:
            self._data = self._read_table() if self.is_table else self._read_image()
        return self._data

    def _read_image(self):
        h = self.header
        naxis = int(h.get("NAXIS", 0))
        if naxis == 0:
            return None
        dtype = _BITPIX.get(int(h["BITPIX"]))
        if dtype is None:
            raise Unsupported(f"BITPIX {h['BITPIX']}")
        shape = tuple(int(h[f"NAXIS{i}"]) for i in range(naxis, 0, -1))
        count = int(np.prod(shape))
        if self._start + count * np.dtype(dtype).itemsize > len(self._buf):
            raise Unsupported("image data is truncated")
        arr = np.frombuffer(self._buf, dtype=dtype, count=count, offset=self._start).reshape(shape)
        scale, zero = h.get("BSCALE", 1), h.get("BZERO", 0)
        if scale != 1 or zero != 0:
            arr = arr * scale + zero
        return arr

    def _read_table(self):
        h = self.header
        fields = []
        for i, name in enumerate(self.columns.names, start=1):
            m = _TFORM_RE.match(str(h.get(f"TFORM{i}", "")))
            if not m:
                raise Unsupported(f"column {name!r} has TFORM {h.get(f'TFORM{i}')!r}")
            repeat = int(m.group(1) or 1)
            code = _TFORM[m.group(2)]
            if h.get(f"TSCAL{i}", 1) != 1 or h.get(f"TZERO{i}", 0) != 0:
                raise Unsupported("scaled table columns")
            if code == "S":
                fields.append((name, f"S{repeat}"))
            else:
                fields.append((name, code, (repeat,)) if repeat != 1 else (name, code))
        dtype = np.dtype(fields)
        width, rows = int(h["NAXIS1"]), int(h["NAXIS2"])
        if dtype.itemsize != width:
            raise Unsupported("table row width does not match its columns")
        if self._start + width * rows > len(self._buf):
            raise Unsupported("table data is truncated")
        return np.frombuffer(self._buf, dtype=dtype, count=rows, offset=self._start)


class FastHDUList:
    """The HDUs of a FITS file held in memory."""

    def __init__(self, buf: bytes):
        if not buf.startswith(b"SIMPLE  ="):
            raise Unsupported("not a FITS file")
        self.hdus: list[FastHDU] = []
        pos = 0
        while pos < len(buf):
            if not buf[pos : pos + 8].strip(b" \x00"):
                break  # zero padding after the last HDU
            header, start = parse_header(buf, pos)
            hdu = FastHDU(buf, header, start, len(self.hdus))
            self.hdus.append(hdu)
            if start + hdu.data_size > len(buf):
                raise Unsupported("file is truncated")
            pos = start + -(-hdu.data_size // BLOCK) * BLOCK

    @classmethod
    def open(cls, path: str | Path) -> FastHDUList:
        return cls(read_bytes(path))

    def __len__(self) -> int:
        return len(self.hdus)

    def __getitem__(self, key: int | str) -> FastHDU:
        if isinstance(key, int):
            return self.hdus[key]
        for hdu in self.hdus:
            if hdu.name == key.upper():
                return hdu
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return any(h.name == key.upper() for h in self.hdus)
