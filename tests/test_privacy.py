"""Personal data in any disguise is found before anything is stored; ordinary cells are not mistaken for it.

The disguise table is what an attacker tried (issue 11): National Insurance numbers, e-mail addresses,
postcodes and phone numbers written with dashes, dots, odd spacing, zero-width characters, Cyrillic or Greek
look-alike letters, full-width forms, glued to other text, or in lower case. The false-alarm table holds the
dates, times, amounts, codes and references real MI returns are made of: none of them may be flagged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook as OpenpyxlWorkbook

from dashboard.db import writing
from loaders import privacy
from loaders.cli import main
from loaders.demo import world
from loaders.errors import WITHHELD, PersonalDataRefused
from loaders.identifiers import kind_of, normalise
from loaders.layouts import column_letter
from loaders.organisation import register_partner
from loaders.pipeline import LOADED
from loaders.privacy import find_personal_typed, find_personal_values
from loaders.readers import SheetData, Workbook
from loaders.service import REJECTED, IngestOptions, ingest_files, report_bytes
from tests.conftest import CPA, PARTNER, PRIME, ROOT, rows
from tests.hostile import PARTICIPANT_COLUMNS, journeys, table
from tests.test_hostile_files import database_text

OPTIONS = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03")

NINO, EMAIL, PHONE, POSTCODE = (
    "a National Insurance number",
    "an email address",
    "a phone number",
    "a postcode",
)


def full_width(text: str) -> str:
    """`text` in full-width forms (U+FF01-U+FF5E for ASCII ! to ~; a space stays a space)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# (what the disguise is, the cell, what it must be found as)
DISGUISES = [
    # National Insurance numbers
    ("nino plain", "QQ123456C", NINO),
    ("nino spaced", "QQ 12 34 56 C", NINO),
    ("nino valid prefix", "AB123456D", NINO),
    ("nino no suffix", "QQ123456", NINO),
    ("nino no suffix, valid prefix", "AB123456", NINO),
    ("nino no suffix, spaced", "AB 12 34 56", NINO),
    ("nino dashes", "QQ-12-34-56-C", NINO),
    ("nino dashes, no suffix", "AB-12-34-56", NINO),
    ("nino dots", "QQ.12.34.56.C", NINO),
    ("nino slashes", "QQ/12/34/56/C", NINO),
    ("nino underscores", "QQ_12_34_56_C", NINO),
    ("nino odd spacing", "Q Q1 23 45 6C", NINO),
    ("nino wide spacing", "QQ   123   456   C", NINO),
    ("nino zero-width space", "QQ\u200b123456C", NINO),
    ("nino zero-width joiner, BOM, word joiner", "Q\u200dQ12\ufeff3456\u2060C", NINO),
    ("nino bidi controls", "\u202eQQ123456C\u202c", NINO),
    ("nino soft hyphen", "QQ\u00ad123456\u00adC", NINO),
    ("nino control characters", "Q\x01Q\x1f123456\x7fC", NINO),
    ("nino combining mark", "Q\u0332Q123456C", NINO),
    ("nino no-break spaces", "QQ\u00a012\u00a034\u00a056\u00a0C", NINO),
    ("nino en dashes", "QQ\u201312\u201334\u201356\u2013C", NINO),
    ("nino non-breaking hyphens, no suffix", "AB\u201112\u201134\u201156", NINO),
    ("nino cyrillic look-alikes", "\u0410\u0412123456\u0421", NINO),  # А В ... С
    ("nino cyrillic qa", "\u051a\u051a123456\u0421", NINO),  # Ԛ Ԛ ... С
    ("nino greek look-alikes", "\u0391\u0392123456\u0391", NINO),  # Α Β ... Α
    ("nino lower-case cyrillic look-alikes", "\u0430\u0432 12 34 56 \u0441", NINO),  # а в ... с
    ("nino full-width", full_width("QQ123456C"), NINO),
    ("nino full-width letters only", "\uff31\uff31123456\uff23", NINO),
    ("nino arabic-indic digits", "QQ\u0661\u0662\u0663\u0664\u0665\u0666C", NINO),
    ("nino glued after underscore", "P_QQ123456C", NINO),
    ("nino glued to a word", "REFQQ123456", NINO),
    ("nino glued, suffix, lower case", "ref:qq123456c", NINO),
    ("nino glued to a year", "QQ123456C/2013", NINO),
    ("nino glued on both sides", "XQQ123456CX", NINO),
    ("nino glued on both sides, no suffix", "P_AB123456_1", NINO),
    ("nino no suffix, then a year", "AB123456/2013", NINO),
    ("nino glued to a word, spaced, suffix", "IDQQ 12 34 56 C", NINO),
    ("nino lower case", "qq 12 34 56 c", NINO),
    ("nino in a sentence", "NI no. AB 12 34 56 C on file", NINO),
    ("nino temporary", "TN 12 03 85 M", NINO),
    # e-mail addresses
    ("email plain", "jo.bloggs@example.org", EMAIL),
    ("email full-width at", "jo.bloggs\uff20example.org", EMAIL),
    ("email small at", "jo.bloggs\ufe6bexample.org", EMAIL),
    ("email full-width letters", full_width("jo.bloggs@ex.org"), EMAIL),
    ("email spaced at", "jo.bloggs @ example.org", EMAIL),
    ("email zero-width", "jo.bloggs@\u200bexample.org", EMAIL),
    ("email cyrillic look-alikes", "j\u043e.bl\u043egg\u0455@\u0435x\u0430mple.\u043erg", EMAIL),
    ("email (at)", "jo.bloggs(at)example.org", EMAIL),
    ("email [at] [dot]", "jo.bloggs [at] example [dot] org", EMAIL),
    ("email at dot spelled", "jo.bloggs at example dot org", EMAIL),
    ("email at spelled", "jo.bloggs at example.co.uk", EMAIL),
    ("email upper case", "JO.BLOGGS@EXAMPLE.ORG", EMAIL),
    # postcodes
    ("postcode plain", "SW1A 1AA", POSTCODE),
    ("postcode no space", "SW1A1AA", POSTCODE),
    ("postcode lower case", "sw1a 1aa", POSTCODE),
    ("postcode short", "M1 1AE", POSTCODE),
    ("postcode short, lower, no space", "m11ae", POSTCODE),
    ("postcode dash", "SW1A-1AA", POSTCODE),
    ("postcode double space", "EC1A  1BB", POSTCODE),
    ("postcode odd spacing", "s w 1 a 1 a a", POSTCODE),
    ("postcode full-width", full_width("SW1A 1AA"), POSTCODE),
    ("postcode zero-width", "SW1A\u200b1AA", POSTCODE),
    ("postcode control character", "SW1A\x011AA", POSTCODE),
    ("postcode NUL", "s\x00w1a1aa", POSTCODE),
    ("postcode hangul filler", "SW1A\u31641AA", POSTCODE),
    ("postcode in text", "Office: m1 1ae", POSTCODE),
    ("postcode cyrillic look-alikes", "\u0405W1\u0410 1\u0410\u0410", POSTCODE),  # Ѕ ... А ... АА
    # phone numbers
    ("phone mobile", "07700 900123", PHONE),
    ("phone international", "+44 7700 900123", PHONE),
    ("phone international, no spaces", "+447700900123", PHONE),
    ("phone international (0)", "+44 (0)161 496 0000", PHONE),
    ("phone 0044", "0044 7700 900123", PHONE),
    ("phone dashes", "07700-900-123", PHONE),
    ("phone dots", "07700.900.123", PHONE),
    ("phone glued", "07700900123", PHONE),
    ("phone full-width digits", full_width("07700 900123"), PHONE),
    ("phone zero-width", "0770\u200b0 900\u200b123", PHONE),
    ("phone odd spacing", "0 7 7 0 0 9 0 0 1 2 3", PHONE),
    ("phone landline brackets", "(0161) 496 0000", PHONE),
    ("phone london", "020 7946 0000", PHONE),
    ("phone in text", "call 07700 900123 after 5", PHONE),
]

# Cells real returns hold, which must not be flagged.
ORDINARY = [
    "2014-01-01",
    "01/02/2014 12:00",
    "01-02-2014 12:00",
    "01.02.2014 12:00",
    "2014-01-01T12:00:00",
    "05/01/2013",
    "12:34:56",
    "09:30",
    "£1,234.56",
    "1234.56",
    "0.123456789",
    "-0.5",
    "123456",
    "1234567890",
    "1e400",
    "CPA 12",
    "CPA01-ingeus",
    "P0001",
    "P00001",
    "P1",
    "K0000001",
    "WP-000123",
    "WP000123",
    "C05A0001234",
    "C18Z0099999",
    "PG1",
    "PG 6",
    "PG6 - JSA 18-24",
    "JSA 25+",
    "ESA Flex",
    "IB/IS",
    "Face to face",
    "Telephone",
    "Email",
    "Y",
    "Yes",
    "Total participants: 1,234",
    "Notes: dates are as recorded on the partner case management system.",
    "Period: March 2013",
    "Reporting period ending 12/03/14",
    "Data as at 31/03/2013",
    "as at 31.03.13",
    "Run at 12/03/14 09:15",
    "FY 2013/14",
    "2013/14",
    "Year 2013-14",
    "Q4 2013/14",
    "Invoice 123456",
    "Order 123456",
    "Batch 123456 run",
    "GBP 123,456",
    "EUR 123456",
    "Week 1 2nd",
    "SYNTHETIC DEMO DATA - not real Work Programme MI",
    "Supply chain MI return: Tyneside Pathways Trust for Ingeus, CPA 5, March 2013",
    "Tier 1",
    "Month 12",
    "#DIV/0!",
    "@SUM(A1:A2)",
    "Seen at home, then left",
    "Carré Street",
    "Participants",
    "Customer Journeys",
    "Sheet1",
    "_xlnm._FilterDatabase",
    "_xlnm.Print_Area",
    "CPA01-ingeus_001_resubmitted.xlsx",
    "returns 2013-03.xlsx",
    "MI_201303.xlsx",
    "EP_201303.xlsx",
]


def one_cell_book(value: str) -> Workbook:
    return Workbook(path=Path("returns.xlsx"), sha256="", sheets=[SheetData("Participants", [["ref"], [value]])])


@pytest.mark.parametrize("value,kind", [pytest.param(v, k, id=i) for i, v, k in DISGUISES])
def test_a_disguised_identifier_in_a_cell_is_found_and_withheld(value, kind):
    problems = find_personal_values(one_cell_book(value))
    assert [(p.code, p.severity, p.sheet, p.row, p.column, p.value) for p in problems] == [
        ("personal_data", "error", "Participants", 2, "A", WITHHELD)
    ]
    assert problems[0].message.startswith(f"This cell looks like {kind}.")


@pytest.mark.parametrize("value", ORDINARY)
def test_an_ordinary_cell_is_not_flagged(value):
    assert find_personal_values(one_cell_book(value)) == []


# --- names: the file, its sheets, hidden sheets, defined names -----------------------------------------------


def book_named(file="returns.xlsx", sheets=("Participants",), hidden=(), defined=(), cells=(("P0001",),)) -> Workbook:
    return Workbook(
        path=Path(file),
        sha256="",
        sheets=[SheetData(name, [["participant_ref"], *map(list, cells)]) for name in sheets],
        hidden_sheets=list(hidden),
        defined_names=list(defined),
    )


def where(problems) -> list[tuple]:
    return [(p.file, p.sheet, p.row, p.column, p.value, p.message.split(". wpmi")[0]) for p in problems]


def test_a_file_name_holding_personal_data_is_flagged_and_withheld_from_every_problem():
    problems = find_personal_values(book_named(file="QQ 12 34 56 C returns.xlsx", cells=[["07700 900123"]]))
    assert where(problems) == [
        (WITHHELD, "", None, "", WITHHELD, f"The file name looks like {NINO}"),
        (WITHHELD, "Participants", 2, "A", WITHHELD, f"This cell looks like {PHONE}"),
    ]


def test_a_file_name_that_is_an_oddly_spaced_identifier_before_its_suffix_is_flagged():
    assert where(find_personal_values(book_named(file="s w 1 a 1 a a.xlsx"))) == [
        (WITHHELD, "", None, "", WITHHELD, f"The file name looks like {POSTCODE}")
    ]


def test_a_sheet_name_holding_personal_data_is_flagged_by_position_and_withheld_from_its_cells():
    book = book_named(sheets=("Participants", "jo.bloggs\uff20example.org"), cells=[["SW1A1AA"]])
    assert where(find_personal_values(book)) == [
        ("returns.xlsx", WITHHELD, None, "", WITHHELD, f"The name of sheet 2 looks like {EMAIL}"),
        ("returns.xlsx", "Participants", 2, "A", WITHHELD, f"This cell looks like {POSTCODE}"),
        ("returns.xlsx", WITHHELD, 2, "A", WITHHELD, f"This cell looks like {POSTCODE}"),
    ]


def test_hidden_sheet_names_and_defined_names_are_scanned():
    book = book_named(
        hidden=("Lookups", "AB-12-34-56"), defined=("_xlnm.Print_Area", "Data_2013_03", "tel_07700900123")
    )
    assert where(find_personal_values(book)) == [
        ("returns.xlsx", WITHHELD, None, "", WITHHELD, f"The name of hidden sheet 2 looks like {NINO}"),
        ("returns.xlsx", "", None, "", WITHHELD, f"Defined name 3 (a named range) looks like {PHONE}"),
    ]


@pytest.mark.parametrize("name", [v for v in ORDINARY if len(v) <= 31])
def test_ordinary_file_sheet_and_defined_names_are_not_flagged(name):
    assert find_personal_values(book_named(file=f"{name}.xlsx", sheets=(name,), hidden=(name,), defined=(name,))) == []


# --- reference schemes -----------------------------------------------------------------------------------


def refs_book(refs: list[str]) -> Workbook:
    return Workbook(path=Path("returns.xlsx"), sha256="", sheets=[SheetData("P", [["ref"], *[[r] for r in refs]])])


def flagged_rows(book: Workbook) -> list[int]:
    return [p.row - 1 for p in find_personal_values(book) if p.row]


def test_a_sheet_whose_references_share_a_nino_like_shape_is_a_reference_scheme_not_ni_numbers():
    scheme = [f"WP-{12345 + 7 * i:06d}" for i in range(privacy.REFERENCE_SCHEME_MIN)]
    assert flagged_rows(refs_book(scheme)) == []


def test_fewer_references_of_one_shape_than_a_scheme_are_each_flagged():
    few = [f"WP-{12345 + 7 * i:06d}" for i in range(privacy.REFERENCE_SCHEME_MIN - 1)]
    assert flagged_rows(refs_book(few)) == list(range(1, len(few) + 1))


@pytest.mark.parametrize(
    "planted",
    ["WP-123456C", "QQ-123456", "TN-120385", "AB 12 34 56", "AB123456", "jo@example.org", "07700 900123"],
)
def test_a_ni_number_written_otherwise_than_the_scheme_is_still_found_among_its_references(planted):
    scheme = [f"WP-{12345 + 7 * i:06d}" for i in range(privacy.REFERENCE_SCHEME_MIN)]
    assert flagged_rows(refs_book([*scheme, planted])) == [len(scheme) + 1]


# --- the sheet-wide search finds exactly what each value alone holds -----------------------------------------

VALUES = st.sampled_from([v for _, v, _ in DISGUISES] + ORDINARY + ["", " ", "\x00", "QQ12\x003456C", "a\x00b"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(VALUES, min_size=1, max_size=4), min_size=1, max_size=8))
def test_the_sheet_wide_scan_flags_exactly_the_cells_that_hold_personal_data_alone(rows):
    book = Workbook(path=Path("f.xlsx"), sha256="", sheets=[SheetData("S", rows)])
    found = {(p.row, p.column, p.message.split(". wpmi")[0]) for p in find_personal_values(book)}
    expected = {
        (r + 1, column_letter(c), f"This cell looks like {kind}")
        for r, row in enumerate(rows)
        for c, value in enumerate(row)
        if (kind := kind_of(value))
    }
    assert found == expected


# --- names people type -------------------------------------------------------------------------------------


def test_typed_fields_holding_personal_data_are_each_an_error_naming_the_field_and_kind_never_the_value():
    problems = find_personal_typed(
        {
            "partner": "Tyneside \u0051Q 12 34 56 C",
            "prime": "Ingeus",
            "reason": "asked by jo[at]example.org",
            "x": None,
        },
        "command line",
    )
    assert [(p.code, p.severity, p.value, p.message) for p in problems] == [
        (
            "personal_data",
            "error",
            WITHHELD,
            f"The partner given on the command line looks like {NINO}. wpmi never stores personal data: give the "
            "partner without it.",
        ),
        (
            "personal_data",
            "error",
            WITHHELD,
            f"The reason given on the command line looks like {EMAIL}. wpmi never stores personal data: give the "
            "reason without it.",
        ),
    ]


def test_a_typed_file_name_is_judged_with_and_without_its_suffix():
    assert [
        p.message.split(". wpmi")[0] for p in find_personal_typed({"file name": "s w 1 a 1 a a.xlsx"}, "upload")
    ] == [f"The file name given on the upload looks like {POSTCODE}"]


PRIMES = [row.split(",")[1] for row in (ROOT / "data/reference/primes.csv").read_text().splitlines()[1:]]
PARTNER_NAMES = [
    f"{place} {word} {suffix}"
    for place in world.PLACES
    for word, suffix in [
        *zip(world.VCS_WORDS, world.VCS_SUFFIX * 5),
        *zip(world.PRIVATE_WORDS, world.PRIVATE_SUFFIX * 5),
    ]
]


def test_the_names_of_real_primes_and_demo_partners_and_ordinary_reasons_are_not_flagged():
    fields = {f"name {i}": name for i, name in enumerate([*PRIMES, *PARTNER_NAMES, PARTNER])}
    fields |= {"reason": "Resubmitted with corrected March 2013 figures (ticket 123456)", "period": "2013-03"}
    assert find_personal_typed(fields, "Data page") == []


def test_registering_a_partner_whose_name_holds_personal_data_is_refused_and_nothing_is_written(engine):
    before = rows(engine, "SELECT * FROM partner"), rows(engine, "SELECT * FROM audit_log")
    with pytest.raises(PersonalDataRefused) as raised, writing(engine) as conn:
        register_partner(conn, "Jo Bloggs 07700\u00a0900123")
    assert str(raised.value) == (
        f"The partner name to register looks like {PHONE}. wpmi never stores personal data: register the "
        "organisation under its own name."
    )
    assert (rows(engine, "SELECT * FROM partner"), rows(engine, "SELECT * FROM audit_log")) == before


@pytest.mark.parametrize("field", ["partner", "prime", "period"])
def test_a_typed_partner_prime_or_period_holding_personal_data_rejects_the_file_without_quoting_it(
    field, tmp_path, engine, caplog
):
    typed = "ab-12-34-56-c"
    options = IngestOptions(**{**vars(OPTIONS), field: typed, "register_partner": True})
    with caplog.at_level("DEBUG"):
        [result] = ingest_files(engine, [("returns.xlsx", table(tmp_path / "returns.xlsx", journeys()))], options)
    assert result.status == REJECTED
    # Refused by the pipeline's check of typed options before the file is read (personal_data); the message is the
    # one refuse_personal_typed gives elsewhere (PersonalDataRefused).
    [problem] = result.errors
    assert problem.code in ("PersonalDataRefused", "personal_data")
    assert problem.message == (
        f"The {field} given on the command line or Data page looks like {NINO}. wpmi never stores personal data: "
        f"give the {field} without it."
    )
    assert_nowhere(typed, engine, [result], caplog.text)


def test_a_withdrawal_reason_holding_personal_data_is_refused_on_the_command_line(db_url, engine, capsys):
    before = rows(engine, "SELECT * FROM audit_log")
    assert main(["withdraw", "1", "--reason", "per jo.bloggs\ufe6bexample.org", "--db", db_url]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert re.search(f"The reason given on the [a-zA-Z ]+ looks like {EMAIL}", err), err
    assert "bloggs" not in err
    assert rows(engine, "SELECT * FROM audit_log") == before


# --- end to end: planted anywhere, in any disguise, the file is rejected and the value goes nowhere -------------

# Identifiers in their plain form, each with its disguises: how a person could lay it out (kind-specific), then
# any of the character-level disguises, composed in any order.
NI_NUMBERS = [("QQ", "123456", "C"), ("AB", "123456", "D"), ("JG", "103759", "A"), ("TN", "120385", "M")]
EMAILS = [("jo.bloggs", "example.org"), ("a.n.other", "mail.example.co.uk")]
PHONES = ["07700900123", "01614960000", "02079460000"]
POSTCODES = [("SW1A", "1AA"), ("M1", "1AE"), ("EC1A", "1BB")]


@st.composite
def ni_number(draw) -> str:
    letters, digits, suffix = draw(st.sampled_from(NI_NUMBERS))
    drop_suffix = draw(st.booleans())
    # A suffix-less number in pairs parted by slashes reads as a date and is let through by design (unless QQ/TN).
    seps = ["", " ", "-", ".", "_"] + (["/"] if not drop_suffix or letters in ("QQ", "TN") else [])
    sep = draw(st.sampled_from(seps))
    odd = draw(st.booleans())
    pairs = [digits[i : i + 2] for i in range(0, 6, 2)]
    body = f"{letters[0]} {letters[1]}{digits[:1]} {digits[1:4]} {digits[4:]}" if odd else sep.join([letters, *pairs])
    text = body + ("" if drop_suffix else sep + suffix)
    glue = draw(st.sampled_from(["", "P_", "REF"] if sep == "" and not odd else ["", "P_"]))
    return glue + text


@st.composite
def email(draw) -> str:
    local, domain = draw(st.sampled_from(EMAILS))
    at = draw(st.sampled_from(["@", "\uff20", "\ufe6b", " @ ", "(at)", " [at] ", " at ", "{at}"]))
    dot = draw(st.sampled_from([".", " dot ", "(dot)"])) if at.strip() not in ("@", "\uff20", "\ufe6b") else "."
    return local + at + domain.replace(".", dot)


@st.composite
def phone(draw) -> str:
    number = draw(st.sampled_from(PHONES))
    groups = {"07700900123": [5, 3, 3], "01614960000": [4, 3, 4], "02079460000": [3, 4, 4]}[number]
    if draw(st.booleans()):
        return " ".join(number)  # odd spacing: found as a whole value
    sep = draw(st.sampled_from([" ", "-", ".", ""]))
    cut = [0, groups[0], groups[0] + groups[1], 11]
    parts = [number[a:b] for a, b in zip(cut, cut[1:])]
    national = sep.join(parts)
    return draw(st.sampled_from([national, "+44 " + national[1:], "+44 (0)" + national[1:], "0044" + national[1:]]))


@st.composite
def postcode(draw) -> str:
    outward, inward = draw(st.sampled_from(POSTCODES))
    if draw(st.booleans()):
        return " ".join(outward + inward)  # odd spacing: found as a whole value
    return outward + draw(st.sampled_from(["", " ", "  ", "-"])) + inward


LOOK_ALIKES = str.maketrans("ABCEHKMOPTXaceopxy", "АВСЕНКМОРТХасеорху")  # Latin -> Cyrillic
DISGUISE = {
    "lower case": str.lower,
    "full width": full_width,
    "zero-width characters": lambda s: "\u200b".join(s[i : i + 3] for i in range(0, len(s), 3)),
    "joiners and byte-order marks": lambda s: "\u2060\u200d".join(s[i : i + 4] for i in range(0, len(s), 4)) + "\ufeff",
    "cyrillic look-alikes": lambda s: s.translate(LOOK_ALIKES),
    "no-break spaces": lambda s: s.replace(" ", "\u00a0"),
}


@st.composite
def disguised(draw) -> str:
    value = draw(st.one_of(ni_number(), email(), phone(), postcode()))
    for name in draw(st.lists(st.sampled_from(sorted(DISGUISE)), unique=True, max_size=3)):
        value = DISGUISE[name](value)
    return value


def plain(value: str) -> set[str]:
    """The forms of a planted value that must appear nowhere: as planted, normalised, and without separators."""
    normalised = normalise(value)
    return {value, normalised, "".join(c for c in normalised if c.isalnum())} - {""}


def assert_nowhere(value: str, engine, results, logs: str) -> None:
    places = {
        "the database": database_text(engine),
        "the CSV report": report_bytes(results, "csv").decode("utf-8"),
        "the JSON report": json.dumps(json.loads(report_bytes(results, "json")), ensure_ascii=False),
        "the logs": logs,
    }
    for form in plain(value):
        for place, content in places.items():
            assert form not in content and form not in content.upper(), f"{form!r} is in {place}"


def workbook(path: Path, ref: str = "P0001", prepared_by: str = "Data team", extra_sheet: str | None = None) -> Path:
    """A small valid return: a title block (with a `Prepared by` cell), a header row and three journeys."""
    wb = OpenpyxlWorkbook()
    ws = wb.active
    ws.title = "Participants"
    title = [
        [f"Partner: {PARTNER}"],
        [f"Prime: {PRIME}"],
        [f"CPA: {CPA}"],
        ["Period: March 2013"],
        ["Prepared by", prepared_by],
        [],
    ]
    data = journeys()
    data[0][0] = ref
    for row in [*title, PARTICIPANT_COLUMNS, *data]:
        ws.append(row)
    for row in ws.iter_rows():
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, whatever it starts with
    if extra_sheet is not None:
        wb.create_sheet(extra_sheet).append(["notes"])
    wb.save(path)
    return path


EXCEL_SHEET_NAME = re.compile(r"[^\[\]:*?/\\]{1,31}")


def test_the_small_workbook_the_plants_go_into_loads_when_nothing_is_planted(tmp_path, engine):
    path = workbook(tmp_path / "returns.xlsx", extra_sheet="Notes")
    [result] = ingest_files(engine, [(path.name, path)], IngestOptions())
    assert result.status == LOADED, [(p.code, p.message) for p in result.problems]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=disguised(), place=st.sampled_from(["participant_ref", "header block", "sheet name", "file name"]))
def test_personal_data_planted_in_any_disguise_rejects_the_file_and_goes_nowhere(
    tmp_path, engine, caplog, value, place
):
    if place == "sheet name":
        assume(EXCEL_SHEET_NAME.fullmatch(value) and value.strip("'") == value)
    if place == "file name":
        assume("/" not in value and "\x00" not in value)
    path = tmp_path / (f"{value}.xlsx" if place == "file name" else "returns.xlsx")
    workbook(
        path,
        ref=value if place == "participant_ref" else "P0001",
        prepared_by=value if place == "header block" else "Data team",
        extra_sheet=value if place == "sheet name" else "Notes",
    )
    caplog.clear()
    with caplog.at_level("DEBUG"):
        results = ingest_files(engine, [(path.name, path)], IngestOptions())
    assert results[0].status == REJECTED
    assert "personal_data" in [p.code for p in results[0].errors]
    assert_nowhere(value, engine, results, caplog.text)


@pytest.mark.parametrize("name", ["QQ 12 34 56 C.xlsx", "jo.bloggs\uff20example.org.xlsx", "m11ae.xlsx"])
def test_personal_data_in_the_file_name_rejects_the_file_and_goes_nowhere(name, tmp_path, engine, caplog):
    path = workbook(tmp_path / name)
    with caplog.at_level("DEBUG"):
        results = ingest_files(engine, [(path.name, path)], IngestOptions())
    assert results[0].status == REJECTED
    assert_nowhere(Path(name).stem, engine, results, caplog.text)
