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

import re
from pathlib import Path

import numpy as np

BLOCK = 2880
CARD = 80
_MAX_NAXIS = 999


class Unsupported(Exception):
    """The file uses FITS features outside the subset parsed here: use astropy instead."""


class Truncated(Unsupported):
    """The file ends before its headers say it should (no END card, data cut short)."""


class BadHeader(Unsupported):
    """A structural card (BITPIX, NAXIS, NAXISn, PCOUNT, GCOUNT) is missing or invalid."""


_BITPIX = {8: ">u1", 16: ">i2", 32: ">i4", 64: ">i8", -32: ">f4", -64: ">f8"}
_TFORM = {"L": "i1", "B": "u1", "I": ">i2", "J": ">i4", "K": ">i8", "E": ">f4", "D": ">f8", "A": "S"}
_TFORM_RE = re.compile(r"^\s*(\d*)([LBIJKEDA])\s*$")


def read_bytes(path: str | Path) -> bytes:
    """The file's bytes, gunzipped when gzipped, through the size cap of `safeio`."""
    from .safeio import read_bytes as capped

    return capped(path)


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


_STRUCTURAL = frozenset({"SIMPLE", "XTENSION", "BITPIX", "NAXIS", "PCOUNT", "GCOUNT"})


def _have_structure(cards: dict) -> bool:
    naxis = cards.get("NAXIS")
    if "BITPIX" not in cards or not isinstance(naxis, int) or isinstance(naxis, bool):
        return False
    if any(f"NAXIS{i}" not in cards for i in range(1, min(naxis, _MAX_NAXIS) + 1)):
        return False
    return "XTENSION" not in cards or ("PCOUNT" in cards and "GCOUNT" in cards)


def _end_card(buf: bytes, offset: int, pos: int) -> int:
    """Offset just past the END card (searched from `pos`) of the header at `offset`."""
    while True:
        i = buf.find(b"END     ", pos)
        if i < 0:
            raise Truncated("header has no END card (the file is truncated)")
        if (i - offset) % CARD == 0 and i + CARD <= len(buf):
            return i + CARD
        if (i - offset) % CARD == 0:
            raise Truncated("header has no END card (the file is truncated)")
        pos = i + 1


def parse_header(
    buf: bytes, offset: int, tolerant: bool = False, structural_only: bool = False
) -> tuple[dict, int]:
    """Parse the header starting at `offset`; return (cards, offset of the data).

    tolerant: keep an unparseable value as its raw text instead of raising `Unsupported`
    (the structure scan needs only the structural cards).
    structural_only: parse only SIMPLE/XTENSION/BITPIX/NAXIS*/PCOUNT/GCOUNT/EXTNAME values
    (the structure scan runs on every file; full parsing is 10x the work).
    """
    cards: dict = {}
    pos = offset
    n = len(buf)
    while True:
        if pos + CARD > n:
            raise Truncated("header has no END card (the file is truncated)")
        key = buf[pos : pos + 8].decode("ascii", errors="replace").rstrip()
        start = pos
        pos += CARD
        if key == "END":
            break
        if key in ("", "COMMENT", "HISTORY", "CONTINUE") or buf[start + 8 : start + 10] != b"= ":
            continue
        if structural_only and key not in _STRUCTURAL and not key.startswith("NAXIS"):
            continue
        if key not in cards:  # FITS: the first occurrence of a keyword wins
            text = buf[start + 10 : start + CARD].decode("ascii", errors="replace")
            try:
                cards[key] = _parse_value(text)
            except Unsupported:
                if not tolerant:
                    raise
                cards[key] = text.strip()
            # FITS puts the structural cards first: once they are all in, jump to END.
            if structural_only and _have_structure(cards):
                pos = _end_card(buf, offset, pos)
                break
    data_start = -(-pos // BLOCK) * BLOCK
    return cards, data_start


def _int_card(header: dict, key: str, default=None) -> int:
    value = header.get(key, default)
    if value is None:
        raise BadHeader(f"the header has no {key} card")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadHeader(f"{key} = {value!r} is not a non-negative integer")
    return value


def data_size(header: dict) -> int:
    """Bytes of data the header declares (validating BITPIX, NAXIS, NAXISn, PCOUNT, GCOUNT)."""
    bitpix = header.get("BITPIX")
    if isinstance(bitpix, bool) or bitpix not in _BITPIX:
        raise BadHeader(f"BITPIX = {bitpix!r} is not a FITS value (8, 16, 32, 64, -32, -64)")
    naxis = _int_card(header, "NAXIS")
    if naxis > _MAX_NAXIS:
        raise BadHeader(f"NAXIS = {naxis} is above the FITS maximum of 999")
    if naxis == 0:
        return 0
    n = abs(bitpix) // 8
    for i in range(1, naxis + 1):
        n *= _int_card(header, f"NAXIS{i}")
    return (n + _int_card(header, "PCOUNT", 0)) * _int_card(header, "GCOUNT", 1)


def scan(
    buf: bytes, partial: bool = False, tolerant: bool = True, full: bool = False
) -> list[tuple[dict, int, int]]:
    """Walk the HDUs of `buf` without touching their data: [(header, data offset, data bytes)].

    Raises `Truncated` when a header or its declared data runs past the end of `buf`, and
    `BadHeader` for invalid structural cards. partial=True (a first chunk of a stream): stop
    quietly at the first incomplete header and do not require the data to be present.
    Bytes after the last HDU that do not start an extension (padding) are ignored.
    full: parse every card (FastHDUList); otherwise only the structural ones.
    """
    if buf[:9] != b"SIMPLE  =":
        raise Unsupported("not a FITS file")
    hdus: list[tuple[dict, int, int]] = []
    pos, n = 0, len(buf)
    while pos < n:
        if hdus and buf[pos : pos + 8] != b"XTENSION":
            break  # zero/blank padding or junk after the last HDU
        try:
            header, start = parse_header(buf, pos, tolerant=tolerant, structural_only=not full)
        except Truncated:
            if partial:
                break
            raise
        size = data_size(header)
        hdus.append((header, start, size))
        if start + size > n and not partial:
            what = "primary HDU" if len(hdus) == 1 else f"HDU {len(hdus) - 1}"
            raise Truncated(
                f"the {what} declares {size:,} bytes of data but the file ends "
                f"{start + size - n:,} bytes short (the file is truncated)"
            )
        pos = start + -(-size // BLOCK) * BLOCK
    return hdus


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
        return data_size(self.header)

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
        self.hdus: list[FastHDU] = []
        # Strict parse: a card value the fast parser cannot read means "use astropy".
        for header, start, _ in scan(buf, tolerant=False, full=True):
            self.hdus.append(FastHDU(buf, header, start, len(self.hdus)))

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
