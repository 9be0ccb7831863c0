"""MK spectral-type strings -> class, numeric subtype code and luminosity class.

Handles LAMOST/SDSS pipeline SUBCLASS values ('A7', 'dM5', 'Carbon', 'Non'), library MK
types ('B0.5Iae', 'G8/K0IIIw.', 'M4.5:III', 'A0 (19510)' from BOSS name cards) and the
lower-case Pickles file-name types ('a47iv' = A4-7 IV, 'm2p5v' = M2.5 V, 'm10iii').

Decisions (see docs/preprocessing.md, "Labels"):
- code = 10 * class index + subtype: O0=0 ... O9.5=9.5, B0=10, ..., M9=69. M10 (Pickles
  m10iii) gives 70, the only code >= 70. Carbon stars have no code (None).
- No subtype ('A', 'Am', 'O') gives code = subtype 0 of the class and `has_subtype` False, so
  callers that need a real subtype filter on `has_subtype`.
- Composites ('F3/F5V', 'O8/O9') and subtype ranges ('A4-7IV') take the first type; the
  luminosity class that follows applies to it. Two-digit Pickles ranges ('a47iv', 'b12iii',
  'k01ii') take the first digit.
- Prefixes: d -> V, sd/esd/usd -> VI, g -> III. Hot subdwarfs sdB/sdO stay B/O with 'VI'.
  An explicit luminosity class written after the type wins over a prefix.
- Luminosity sub-grades ('IIIa', 'IIb', 'Va') collapse to the roman class; only I keeps
  a/ab/b ('Ia', 'Iab', 'Ib'). Ranges keep their separator ('III-IV', 'Ib/II', 'Ia-Iab').
- 'OB' (LAMOST/BOSS template between O and B) is excluded as ambiguous.
- Excluded, with a reason: QSO, galaxy, white dwarfs (WD*, DA/DB/DC/DO/DQ/DZ/DX, CarbonWD,
  CalciumWD), Wolf-Rayet (WC/WN/WO/WR), L/T/Y dwarfs, 'Non', 'Unknown', empty, and anything
  unparseable. A header CLASS other than STAR (obj_class) excludes too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .errors import LabelError

CLASSES: tuple[str, ...] = ("O", "B", "A", "F", "G", "K", "M", "C")
_TEMP_CLASSES = "OBAFGKM"


@dataclass(frozen=True)
class Label:
    """A parsed spectral type.

    raw: the input string (None for None input).
    cls: one of CLASSES, None when excluded.
    code: numeric type, 10 * class index + subtype (O0=0 ... M9=69, M10=70); None for C.
    lum_class: 'Ia', 'Iab', 'Ib', 'I', 'II', 'III', 'IV', 'V', 'VI', '0' or a range as written.
    excluded: why the label is not a usable O-M/C stellar label; None when usable.
    subtype: the numeric subtype (2.5 for 'B2.5'); None when the string had none.
    """

    raw: str | None
    cls: str | None
    code: float | None
    lum_class: str | None
    excluded: str | None
    subtype: float | None = None

    @property
    def ok(self) -> bool:
        """True when the label names one of CLASSES and is not excluded."""
        return self.cls is not None and self.excluded is None

    @property
    def has_subtype(self) -> bool:
        """True when the string gave a numeric subtype (so `code` is not a class default)."""
        return self.subtype is not None


def _excluded(raw: str | None, reason: str) -> Label:
    return Label(raw=raw, cls=None, code=None, lum_class=None, excluded=reason)


# Luminosity token: roman numeral, then optional a/ab/b grade (kept only for I).
_LUM_TOKEN = r"(?:0|III|II|IV|VI|V|I)(?:ab|a|b)?"
_LUM_PATTERN = rf"^({_LUM_TOKEN})(?:([-/])({_LUM_TOKEN}|(?:ab|a|b)(?![a-zA-Z])))?"
# Mixed-case strings: roman numerals must be upper case, so 'var' / 'vw' are not class V.
# All-lower-case strings (Pickles file names 'g8iii') are matched ignoring case.
_LUM_RE = re.compile(_LUM_PATTERN)
_LUM_RE_NOCASE = re.compile(_LUM_PATTERN, re.I)

_TYPE_RE = re.compile(
    r"""^(?P<prefix>esd|usd|sd|d|g)?:?\s*
        (?P<cls>[OBAFGKM])
        (?:(?P<sub>\d+p\d+|\d+(?:\.\d+)?)(?:-\d+(?:\.\d+)?)?)?   # 'A4-7' range -> A4
        (?:\s*/\s*[OBAFGKM]?\d*(?:\.\d+)?)?      # composite: '/F5' or '/O9' -> ignored
        (?P<rest>.*)$""",
    re.I | re.X,
)

_PREFIX_LUM = {"d": "V", "sd": "VI", "esd": "VI", "usd": "VI", "g": "III"}

# Checked before the MK regex; case-sensitive where case separates meanings (DA vs dA).
_WHITE_DWARF_RE = re.compile(r"^(?:(?i:WD)|D[ABCOQZX]|[A-Za-z]*WD(?:\b|[a-z]))")
_WOLF_RAYET_RE = re.compile(r"^W[CNOR](?:\d|s|$|\W)", re.I)
_LT_DWARF_RE = re.compile(r"^(?:[LTY](?:\d|dwarf|$)|[LTY]\s*dwarf|d[LT]\d)", re.I)
_CARBON_RE = re.compile(
    r"^(?:carbon(?:_lines)?|d?C(?:[-_]?(?:N|R|H|J|Hd))?(?:\d[\d.,]*)?|CH|C-?N\d*|C-?R\d*)"
    r"(?:\W.*)?$",
    re.I,
)
_NOT_STAR = {
    "qso": "QSO",
    "galaxy": "galaxy",
    "non": "no type ('Non')",
    "unknown": "unknown type",
    "none": "no type",
    "nan": "no type",
    "ob": "ambiguous O/B ('OB')",
}


def _canon_lum_token(tok: str) -> str:
    """'iii' -> 'III', 'ia' -> 'Ia', 'IIIa' -> 'III', 'ab' (range end) -> 'Iab'."""
    m = re.match(r"^(0|III|II|IV|VI|V|I)?(ab|a|b)?$", tok, re.I)
    if m is None:  # pragma: no cover - regex guarantees a match
        return tok
    roman = (m.group(1) or "I").upper()
    grade = (m.group(2) or "").lower()
    return roman + grade if roman == "I" else roman


def _parse_lum(rest: str, ignore_case: bool) -> str | None:
    """The luminosity class at the start of `rest` (after ':' / spaces), or None."""
    rest = rest.lstrip(" :")
    m = (_LUM_RE_NOCASE if ignore_case else _LUM_RE).match(rest)
    if m is None:
        return None
    first = _canon_lum_token(m.group(1))
    if m.group(3) is None:
        return first
    return f"{first}{m.group(2)}{_canon_lum_token(m.group(3))}"


def _parse_subtype(sub: str | None, cls: str) -> float | None:
    """'2.5' -> 2.5; '2p5' -> 2.5; '47' (Pickles A4-7) -> 4; '10' -> 10 (M10 only)."""
    if not sub:
        return None
    sub = sub.lower().replace("p", ".")
    if "." in sub:
        value = float(sub)
    elif len(sub) == 1:
        value = float(sub)
    elif sub == "10" and cls == "M":
        value = 10.0
    else:
        value = float(sub[0])  # two-digit range 'b12', 'k01', 'a47' -> first
    if value >= 10 and not (cls == "M" and value == 10):
        raise ValueError(f"subtype {value} out of range for class {cls}")
    return value


def _as_text(s: object) -> str | None:
    if s is None:
        return None
    if isinstance(s, bytes):
        return s.decode("ascii", errors="replace")
    if isinstance(s, float) and math.isnan(s):
        return None
    return str(s)


def parse_label(s: str | None, obj_class: str | None = None) -> Label:
    """Parse an MK / LAMOST / SDSS type string. Never raises; odd input comes back excluded.

    obj_class: the survey's header CLASS ('STAR', 'QSO', 'GALAXY'); anything other than STAR
    (or empty) excludes the label whatever the subclass says.
    """
    raw = _as_text(s)
    oc = (_as_text(obj_class) or "").strip()
    if oc and oc.upper() != "STAR":
        return _excluded(raw, _NOT_STAR.get(oc.lower(), f"object class {oc!r} is not STAR"))
    if raw is None:
        return _excluded(raw, "no type")
    # BOSS NAME cards carry the star's name in parentheses: 'A0IVn (25642)'.
    text = re.sub(r"\s*\(.*?\)\s*", " ", raw).strip()
    if not text:
        return _excluded(raw, "no type (empty)")
    key = text.lower()
    if key in _NOT_STAR:
        return _excluded(raw, _NOT_STAR[key])
    if _WHITE_DWARF_RE.match(text):
        return _excluded(raw, "white dwarf")
    if _WOLF_RAYET_RE.match(text):
        return _excluded(raw, "Wolf-Rayet")
    if _LT_DWARF_RE.match(text):
        return _excluded(raw, "L/T dwarf")
    if _CARBON_RE.match(text):
        return Label(raw=raw, cls="C", code=None, lum_class=None, excluded=None)

    m = _TYPE_RE.match(text)
    if m is None:
        return _excluded(raw, f"unparseable type {raw!r}")
    cls = m.group("cls").upper()
    try:
        subtype = _parse_subtype(m.group("sub"), cls)
    except ValueError as exc:
        return _excluded(raw, f"unparseable type {raw!r}: {exc}")
    rest = m.group("rest")
    lum = _parse_lum(rest, ignore_case=text == text.lower())
    # Without a luminosity class, what follows the type may only be peculiarity flags
    # ('p', 'e', 'm', 'n', ':', '...'); digits or capitals mean it is not an MK type
    # (Pickles 'fm05t9550g395...', 'kA2hA5mA7').
    if lum is None and not re.fullmatch(r"[\sa-z:.+\-,]*", rest):
        return _excluded(raw, f"unparseable type {raw!r}")
    prefix = (m.group("prefix") or "").lower()
    if lum is None and prefix:
        lum = _PREFIX_LUM[prefix]
    code = 10.0 * _TEMP_CLASSES.index(cls) + (subtype or 0.0)
    return Label(raw=raw, cls=cls, code=code, lum_class=lum, excluded=None, subtype=subtype)


def class_index(cls: str, classes: tuple[str, ...] = CLASSES) -> int:
    """Position of `cls` in `classes` (the model's output index). Raises LabelError if absent."""
    try:
        return classes.index(cls)
    except ValueError:
        raise LabelError(
            f"class {cls!r} is not one of {list(classes)}; "
            "parse the type with parse_label and skip labels that are not ok"
        ) from None


def code_to_subtype(code: float) -> str:
    """Numeric code -> type string: 42.0 -> 'G2', 25.5 -> 'A5.5', 70 -> 'M10'."""
    if not math.isfinite(code) or code < 0 or code > 70:
        raise LabelError(f"spectral-type code {code!r} is outside 0 (O0) .. 70 (M10)")
    idx = min(int(code // 10), len(_TEMP_CLASSES) - 1)
    sub = round(code - 10 * idx, 3)
    sub_txt = f"{sub:g}"
    return f"{_TEMP_CLASSES[idx]}{sub_txt}"
