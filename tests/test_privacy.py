"""Personal data in any disguise is found before anything is stored; ordinary cells are not mistaken for it.

The disguise table is what an attacker tried (issue 11): National Insurance numbers, e-mail addresses,
postcodes and phone numbers written with dashes, dots, odd spacing, zero-width characters, Cyrillic or Greek
look-alike letters, full-width forms, glued to other text, or in lower case. The false-alarm table holds the
dates, times, amounts, codes and references real MI returns are made of: none of them may be flagged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.errors import WITHHELD
from loaders.privacy import find_personal_values
from loaders.readers import SheetData, Workbook

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
