"""MK label parsing: a hand-checked table, every label in the sample data, and fuzzing."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spectype.errors import LabelError
from spectype.labels import CLASSES, Label, class_index, code_to_subtype, parse_label

# (string, cls, code, lum_class, has_subtype)
EXPECTED = [
    ("A7III", "A", 27.0, "III", True),
    ("F3/F5V", "F", 33.0, "V", True),
    ("dM2", "M", 62.0, "V", True),
    ("gM0", "M", 60.0, "III", True),
    ("sdM1", "M", 61.0, "VI", True),
    ("O9.5Iae", "O", 9.5, "Ia", True),
    ("K3", "K", 53.0, None, True),
    ("A0", "A", 20.0, None, True),
    ("G7", "G", 47.0, None, True),
    ("dM5", "M", 65.0, "V", True),
    ("M0", "M", 60.0, None, True),
    ("K1IV", "K", 51.0, "IV", True),
    ("B2.5Ve", "B", 12.5, "V", True),
    ("M2III", "M", 62.0, "III", True),
    ("B0.5Ia", "B", 10.5, "Ia", True),
    ("K0V+", "K", 50.0, "V", True),
    ("G8III-IV", "G", 48.0, "III-IV", True),
    ("A47IV", "A", 24.0, "IV", True),
    ("a47iv", "A", 24.0, "IV", True),
    ("A4-7IV", "A", 24.0, "IV", True),
    ("o5v", "O", 5.0, "V", True),
    ("M10III", "M", 70.0, "III", True),
    ("m2p5v", "M", 62.5, "V", True),
    ("b12iii", "B", 11.0, "III", True),
    ("k01ii", "K", 50.0, "II", True),
    ("sd:F0 (G_84-29)", "F", 30.0, "VI", True),
    ("M4.5:III (123657)", "M", 64.5, "III", True),
    ("G8/K0IIIw.", "G", 48.0, "III", True),
    ("B3Ib/II (51309)", "B", 13.0, "Ib/II", True),
    ("M1Ia-ab", "M", 61.0, "Ia-Iab", True),
    ("B2IV-Vne", "B", 12.0, "IV-V", True),
    ("F5Vawvar", "F", 35.0, "V", True),
    ("K0var", "K", 50.0, None, True),  # 'var' is variability, not class V
    ("K0IIIa (57669)", "K", 50.0, "III", True),
    ("G7.5IIIb", "G", 47.5, "III", True),
    ("F6Iab:", "F", 36.0, "Iab", True),
    ("B0.5Ibe... (187459)", "B", 10.5, "Ib", True),
    ("O8/O9 (167771)", "O", 8.0, None, True),
    ("Am (78362)", "A", 20.0, None, False),
    ("O", "O", 0.0, None, False),
    ("sdB", "B", 10.0, "VI", False),
    ("K5 III", "K", 55.0, "III", True),
    ("B0 Ia", "B", 10.0, "Ia", True),
    ("Carbon", "C", None, None, False),
    ("Carbon_lines", "C", None, None, False),
    ("CH", "C", None, None, False),
    ("C-N5", "C", None, None, False),
]

EXCLUDED = {
    "OB": "ambiguous",
    "CarbonWD": "white dwarf",
    "CalciumWD": "white dwarf",
    "WD": "white dwarf",
    "WDmagnetic": "white dwarf",
    "DA": "white dwarf",
    "DA:": "white dwarf",
    "DC:": "white dwarf",  # DC is a featureless white dwarf, not a carbon star
    "Ldwarf": "L/T dwarf",
    "L5.5": "L/T dwarf",
    "T2": "L/T dwarf",
    "WN": "Wolf-Rayet",
    "WNs...": "Wolf-Rayet",
    "QSO": "QSO",
    "GALAXY": "galaxy",
    "Non": "Non",
    "Unknown": "unknown",
    "": "empty",
    "   ": "empty",
    "vega": "unparseable",
    "fm05t9550g395k2odfnew": "unparseable",
    "42": "unparseable",
}


@pytest.mark.parametrize(("s", "cls", "code", "lum", "has_sub"), EXPECTED)
def test_expected_table(s, cls, code, lum, has_sub):
    lab = parse_label(s)
    assert lab.ok, lab
    assert (lab.cls, lab.code, lab.lum_class, lab.has_subtype) == (cls, code, lum, has_sub)
    assert lab.raw == s


@pytest.mark.parametrize(("s", "reason"), EXCLUDED.items())
def test_excluded_with_reason(s, reason):
    lab = parse_label(s)
    assert not lab.ok
    assert lab.cls is None and lab.code is None
    assert reason.lower() in lab.excluded.lower()


def test_none_and_non_string_inputs():
    assert parse_label(None).excluded == "no type"
    assert parse_label(None).raw is None
    assert parse_label(b"G2V").cls == "G"
    assert parse_label(float("nan")).excluded == "no type"


@pytest.mark.parametrize(
    ("obj_class", "reason"), [("QSO", "QSO"), ("GALAXY", "galaxy"), ("Unknown", "unknown")]
)
def test_obj_class_excludes(obj_class, reason):
    lab = parse_label("G2", obj_class=obj_class)
    assert not lab.ok and reason.lower() in lab.excluded.lower()


def test_obj_class_star_keeps_label():
    assert parse_label("G2", obj_class="STAR").code == 42.0
    assert parse_label("G2", obj_class="  ").code == 42.0


def test_class_index():
    assert [class_index(c) for c in CLASSES] == list(range(8))
    assert class_index("K", ("F", "G", "K")) == 2
    with pytest.raises(LabelError, match="not one of"):
        class_index("L")


def test_code_to_subtype_round_trip():
    assert code_to_subtype(42.0) == "G2"
    assert code_to_subtype(9.5) == "O9.5"
    assert code_to_subtype(70) == "M10"
    for half_steps in range(0, 140):
        code = half_steps / 2
        assert parse_label(code_to_subtype(code)).code == code
    for bad in (-1, 70.5, float("nan")):
        with pytest.raises(LabelError):
            code_to_subtype(bad)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.none(), st.binary(max_size=12)))
def test_parse_label_never_raises(s):
    lab = parse_label(s)
    assert isinstance(lab, Label)
    assert lab.ok == (lab.excluded is None)
    if lab.ok:
        assert lab.cls in CLASSES
        assert (lab.code is None) == (lab.cls == "C")
        if lab.code is not None:
            assert 0 <= lab.code <= 70
    else:
        assert lab.cls is None and lab.excluded


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from("OBAFGKM"),
    st.sampled_from(["", "0", "5", "9.5", "2.5"]),
    st.sampled_from(["", "V", "III", "Ia", "Iab", "IV-V", "II/III"]),
    st.sampled_from(["", "e", "n", "p", "...", ":"]),
)
def test_generated_mk_strings_parse(letter, sub, lum, flag):
    lab = parse_label(f"{letter}{sub}{lum}{flag}")
    assert lab.ok and lab.cls == letter
    assert lab.code == 10 * "OBAFGKM".index(letter) + float(sub or 0)
    assert lab.lum_class == (lum or None)


# --- every label string in ../shared/data ------------------------------------------------


def _primary_cards(path: Path, keys: tuple[str, ...]) -> dict[str, object]:
    """Selected primary-header cards, parsed by astropy's Card. Faster than getheader on
    ~1,800 gzipped LAMOST files because only the first blocks are inflated and only the
    wanted cards are parsed."""
    from astropy.io import fits

    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        head = fh.read(2880 * 8)
    out: dict[str, object] = {}
    for start in range(0, len(head) - 79, 80):
        card = head[start : start + 80].decode("ascii", errors="replace")
        if card.startswith("END     "):
            break
        if card[:8].rstrip() in keys:
            parsed = fits.Card.fromstring(card)
            out[parsed.keyword] = str(parsed.value).strip()
    return out


def _data_labels(root: Path) -> dict[str, tuple[str, str | None]]:
    """label -> (where, header CLASS) gathered straight from the files with astropy."""
    from astropy.io import fits

    out: dict[str, tuple[str, str | None]] = {}
    for f in sorted((root / "lamost").rglob("*.fits*")):
        h = _primary_cards(f, ("SUBCLASS", "CLASS"))
        out.setdefault(str(h.get("SUBCLASS", "")), (f.name, h.get("CLASS")))
    for f in sorted((root / "sdss").glob("spec-*.fits")):
        with fits.open(f) as hdul:
            row = hdul[2].data[0]
            out.setdefault(str(row["SUBCLASS"]).strip(), (f.name, str(row["CLASS"]).strip()))
    for f in sorted((root / "libraries" / "stelib").glob("*.fits")):
        out.setdefault(str(fits.getheader(f, 0).get("SPECTYPE", "")), (f.name, None))
    for f in sorted((root / "libraries" / "boss").glob("spEigenStar-*.fits")):
        for key, value in fits.getheader(f, 0).items():
            if re.fullmatch(r"NAME\d+", key):
                out.setdefault(str(value), (f"{f.name}:{key}", None))
    return out


# Labels in the sample data that must not become a class.
_DATA_EXCLUDED = {
    "Non",
    "OB",
    "CalciumWD",
    "CarbonWD",
    "Ldwarf",
    "T2",
    "WD",
    "WDcooler",
    "WDhotter",
    "WDmagnetic",
    "DA:",
    "DC:",
    "WC",
    "WN",
    "WNs...",
    "L0",
    "L1",
    "L2",
    "L3",
    "L4",
    "L5",
    "L5.5",
    "L9",
}


def test_every_label_in_sample_data(shared_data):
    labels = _data_labels(shared_data)
    assert len(labels) > 250  # the sample holds ~350 distinct strings; a reader slip shows here
    wrong = []
    for s, (where, obj_class) in labels.items():
        lab = parse_label(s, obj_class)
        if s in _DATA_EXCLUDED or (obj_class and obj_class != "STAR"):
            if lab.ok:
                wrong.append(f"{where}: {s!r} parsed as {lab.cls}, expected exclusion")
        elif not lab.ok:
            wrong.append(f"{where}: {s!r} excluded ({lab.excluded})")
        elif lab.cls != "C":
            # The class letter is the first O-M letter of the type (after sd/d/g prefixes).
            first = re.search(r"[OBAFGKM]", s).group(0)
            if lab.cls != first:
                wrong.append(f"{where}: {s!r} -> {lab.cls}, expected {first}")
    assert not wrong, "\n".join(wrong)


def test_library_file_name_types(shared_data):
    libraries = pytest.importorskip("spectype.io.libraries")
    pickles = [
        libraries.pickles_type_from_name(f.name)
        for f in (shared_data / "libraries" / "pickles").glob("*.dat")
    ]
    mkclass = [
        libraries.mkclass_type_from_name(f.name)
        for f in (shared_data / "libraries" / "mkclass_libnor36").glob("*.rbn")
    ]
    decoded = [s for s in pickles + mkclass if s is not None]
    assert len(decoded) > 250
    bad = [s for s in decoded if not (parse_label(s).ok and parse_label(s).lum_class)]
    assert not bad, bad
    assert parse_label(libraries.pickles_type_from_name("m10iii.dat")).code == 70.0
