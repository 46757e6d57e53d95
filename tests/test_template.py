"""The standard MI template: sheet order, headings, Excel checks, header block and read-back."""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from dashboard.fields import DATE, INSTRUCTIONS_SHEET, MONTH, PAYMENT_GROUP, SHEETS, SHEETS_BY_NAME
from dashboard.reference import payment_group_codes, payment_groups
from loaders.template import (
    SYNTHETIC_LABEL,
    VALIDATION_ROWS,
    TemplateError,
    data_dictionary_markdown,
    is_template,
    payment_group_names,
    read_header_block,
    write_template,
)

ROOT = Path(__file__).resolve().parents[1]
PG_LIST = '"PG1,PG2,PG3,PG4,PG5,PG6,PG7,PG8,PG9"'


@pytest.fixture
def template_xlsx(tmp_path) -> Path:
    """An empty template."""
    return write_template(tmp_path / "template.xlsx")


def _validations_by_column(ws) -> dict[str, object]:
    """Each data validation keyed by the column letter of its range."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord.split(":")[0].rstrip("0123456789")] = dv
    return out


def _instructions(path: Path) -> list[list]:
    return CalamineWorkbook.from_path(path).get_sheet_by_name(INSTRUCTIONS_SHEET).to_python()


def test_template_has_instructions_then_every_sheet_in_order(template_xlsx):
    wb = openpyxl.load_workbook(template_xlsx)
    assert wb.sheetnames == [INSTRUCTIONS_SHEET] + [s.name for s in SHEETS]


def test_each_data_sheet_header_row_is_the_data_dictionary(template_xlsx):
    wb = openpyxl.load_workbook(template_xlsx)
    for sheet in SHEETS:
        ws = wb[sheet.name]
        assert [c.value for c in ws[1]] == [f.name for f in sheet.fields], sheet.name
        assert all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.max_row == 1  # an empty template has headings only


def test_payment_group_column_has_a_dropdown_of_pg1_to_pg9(template_xlsx):
    wb = openpyxl.load_workbook(template_xlsx)
    for sheet in SHEETS:
        for i, f in enumerate(sheet.fields, start=1):
            if f.type != PAYMENT_GROUP:
                continue
            letter = openpyxl.utils.get_column_letter(i)
            dv = _validations_by_column(wb[sheet.name])[letter]
            assert (dv.type, dv.formula1) == ("list", PG_LIST)
            assert str(dv.sqref) == f"{letter}2:{letter}{VALIDATION_ROWS}"
            assert dv.showErrorMessage and dv.error and dv.prompt == f.help


def test_date_columns_have_date_validation_and_format(template_xlsx):
    wb = openpyxl.load_workbook(template_xlsx)
    checked = 0
    for sheet in SHEETS:
        ws = wb[sheet.name]
        validations = _validations_by_column(ws)
        for i, f in enumerate(sheet.fields, start=1):
            if f.type not in (DATE, MONTH):
                continue
            letter = openpyxl.utils.get_column_letter(i)
            dv = validations[letter]
            assert (dv.type, dv.operator) == ("date", "between")
            assert (float(dv.formula1), float(dv.formula2)) == (40695, 47848)  # 01/06/2011 and 31/12/2030
            expected = "dd/mm/yyyy" if f.type == DATE else "mmm yyyy"
            assert ws.column_dimensions[letter].number_format == expected
            checked += 1
    assert checked == sum(f.type in (DATE, MONTH) for s in SHEETS for f in s.fields) > 0


def test_count_bool_and_mode_columns_have_their_checks(template_xlsx):
    wb = openpyxl.load_workbook(template_xlsx)
    monthly = _validations_by_column(wb["Monthly"])
    assert (monthly["C"].type, monthly["C"].operator, monthly["C"].formula1) == ("whole", "greaterThanOrEqual", "0")
    assert _validations_by_column(wb["Participants"])["M"].formula1 == '"Y,N"'
    assert _validations_by_column(wb["Contacts"])["C"].formula1 == '"face to face,phone,email,text,letter,other"'
    mean = _validations_by_column(wb["Feedback"])["E"]
    assert (mean.type, mean.formula1, mean.formula2) == ("decimal", "1", "5")


def test_header_block_round_trips(tmp_path):
    path = write_template(
        tmp_path / "north.xlsx",
        header={"partner": "North Works", "prime": "Ingeus", "cpa": "7", "period": date(2013, 3, 1)},
    )
    rows = _instructions(path)
    assert [r[0] for r in rows[2:6]] == ["Partner", "Prime", "CPA", "Reporting period"]
    header = read_header_block(rows)
    assert header == {"partner": "North Works", "prime": "Ingeus", "cpa": 7, "period": "2013-03"}
    assert isinstance(header["period"], str)


def test_header_block_is_blank_in_an_empty_template(template_xlsx):
    assert read_header_block(_instructions(template_xlsx)) == {
        "partner": None,
        "prime": None,
        "cpa": None,
        "period": None,
    }


def test_read_header_block_finds_labels_moved_down_in_any_case():
    rows = [
        ["wpmi standard MI template v1"],
        [],
        [],
        ["PARTNER:", "North"],
        ["prime", ""],
        ["Cpa", 3.0],
        ["reporting period", "2014-01"],
    ]
    assert read_header_block(rows) == {"partner": "North", "prime": None, "cpa": 3.0, "period": "2014-01"}


@pytest.mark.parametrize(
    "header, message",
    [
        ({"cpa": "seven"}, 'CPA "seven" is not a number; give the Contract Package Area number, 1-18.'),
        ({"period": "March 2013"}, 'Reporting period "March 2013" is not a month as YYYY-MM (e.g. 2013-03).'),
        ({"contract": "x"}, "Unknown header field contract (expected: partner, prime, cpa, period)."),
    ],
)
def test_bad_header_values_are_refused_with_the_fix(tmp_path, header, message):
    with pytest.raises(TemplateError) as exc:
        write_template(tmp_path / "bad.xlsx", header=header)
    assert str(exc.value) == message


def test_filled_rows_read_back_with_calamine_as_dates_and_numbers(tmp_path):
    width = len(SHEETS_BY_NAME["Participants"].fields)  # in_work_support_offered is the last column
    participants = [
        ["P001", "PG1", date(2012, 1, 5), date(2012, 1, 9), *[None] * (width - 5), True],
        ["P002", "PG6", datetime(2013, 3, 31), *[None] * (width - 4), False],
        ["P003", "PG2", date(2011, 6, 1)],  # short rows leave the rest blank
    ]
    monthly = [[date(2013, 3, 1), "PG1", 120, 110, 12, 4]]
    path = write_template(tmp_path / "filled.xlsx", rows={"Participants": participants, "Monthly": monthly})
    book = CalamineWorkbook.from_path(path)
    got = book.get_sheet_by_name("Participants").to_python()
    assert got[0] == [f.name for f in SHEETS_BY_NAME["Participants"].fields]
    assert got[1][:4] == ["P001", "PG1", date(2012, 1, 5), date(2012, 1, 9)]
    assert got[1][-1] == "Y" and got[2][-1] == "N"
    assert got[2][2] in (date(2013, 3, 31), datetime(2013, 3, 31))
    assert got[3][:3] == ["P003", "PG2", date(2011, 6, 1)]
    month_row = book.get_sheet_by_name("Monthly").to_python()[1]
    assert month_row[0] in (date(2013, 3, 1), datetime(2013, 3, 1))
    assert month_row[2:] == [120, 110, 12, 4]
    ws = openpyxl.load_workbook(path)["Participants"]
    assert ws["C2"].number_format == "dd/mm/yyyy"
    assert str(_validations_by_column(ws)["B"].sqref) == f"B2:B{VALIDATION_ROWS}"


def test_validation_covers_every_row_of_a_large_filled_sheet(tmp_path):
    rows = [[f"P{i}", "PG1", date(2012, 1, 1)] for i in range(VALIDATION_ROWS + 5)]
    path = write_template(tmp_path / "big.xlsx", rows={"Participants": rows})
    ws = openpyxl.load_workbook(path)["Participants"]
    last = int(str(_validations_by_column(ws)["C"].sqref).split(":")[1][1:])
    assert last > len(rows) + 1


@pytest.mark.parametrize(
    "rows, message",
    [
        (
            {"Sheet1": []},
            "No template sheet named Sheet1 (sheets: Participants, Contacts, Monthly, Projections, Feedback).",
        ),
        (
            {"Projections": [[date(2013, 3, 1), "PG1", 10, 99]]},
            'Row 2 of sheet "Projections" has 4 values; the sheet has 3 columns (month, payment_group, '
            "projected_referrals).",
        ),
    ],
)
def test_rows_that_do_not_fit_the_template_are_refused(tmp_path, monkeypatch, rows, message):
    scratch = tmp_path / "scratch"  # where openpyxl streams the sheets before saving
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with pytest.raises(TemplateError) as exc:
        write_template(tmp_path / "bad.xlsx", rows=rows)
    assert str(exc.value) == message
    assert not (tmp_path / "bad.xlsx").exists()
    assert list(scratch.iterdir()) == []


def test_synthetic_flag_labels_the_workbook(tmp_path):
    demo = _instructions(write_template(tmp_path / "demo.xlsx", synthetic=True))
    real = _instructions(write_template(tmp_path / "real.xlsx"))
    assert demo[1][0] == SYNTHETIC_LABEL == "SYNTHETIC DEMO DATA - not real Work Programme MI"
    assert not any("SYNTHETIC" in str(cell) for row in real for cell in row)
    assert openpyxl.load_workbook(tmp_path / "demo.xlsx").properties.title.endswith(f"({SYNTHETIC_LABEL})")


def test_is_template_recognises_only_the_template(template_xlsx):
    rows = _instructions(template_xlsx)
    assert rows[0][0].startswith("wpmi standard MI template v1")
    assert is_template(rows)
    assert not is_template([["Partner MI return March 2013"], ["wpmi standard MI template v1"]])
    assert not is_template([["participant_ref", "payment_group"]])
    assert not is_template([[]])
    assert not is_template([])
    assert not is_template([[42.0]])


def test_docs_data_dictionary_matches_fields():
    text = (ROOT / "docs" / "template.md").read_text(encoding="utf-8")
    start, end = "<!-- dictionary:start -->\n", "<!-- dictionary:end -->"
    section = text[text.index(start) + len(start) : text.index(end)]
    assert section == data_dictionary_markdown(), (
        "docs/template.md is out of date: paste the output of "
        "`python -c \"from loaders.template import data_dictionary_markdown as d; print(d(), end='')\"` "
        "between the dictionary markers."
    )


def test_payment_groups_listed_are_the_reference_csvs(template_xlsx):
    groups = payment_groups()
    assert list(payment_group_names()) == [g.code for g in groups] == list(payment_group_codes())
    for g in groups:  # the reference name, marked when the group was England only (PG8)
        assert payment_group_names()[g.code] in (g.name, f"{g.name} (England only)")
    assert payment_group_names()["PG8"] == "IB/IS volunteers (England only)"
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(template_xlsx)[INSTRUCTIONS_SHEET].iter_rows()]
    start = rows.index(["Payment group", "Name", None, None, None])
    assert [tuple(r[:2]) for r in rows[start + 1 :]] == list(payment_group_names().items())
    assert '"' + ",".join(payment_group_codes()) + '"' == PG_LIST


# --- the blank template as most partners send it: rows filled, header block left alone ----------------------


def _blank_template_with_rows(path: Path, *, header: dict | None = None) -> Path:
    """`wpmi template PATH` as a partner downloads it, with participant rows typed in (and optionally some
    header values), saved by Excel's stand-in, openpyxl."""
    from loaders.cli import main
    from tests.conftest import participants

    assert main(["template", str(path)]) == 0
    wb = openpyxl.load_workbook(path)
    ws = wb["Participants"]
    names = [c.value for c in ws[1]]
    for record in participants().to_dict("records"):
        ws.append([record.get(name) for name in names])
    if header:
        labels = {row[0].value: row[0].row for row in wb[INSTRUCTIONS_SHEET].iter_rows(max_col=1)}
        for label, value in header.items():
            wb[INSTRUCTIONS_SHEET].cell(row=labels[label], column=2, value=value)
    wb.save(path)
    return path


def test_blank_template_filled_with_rows_only_loads_with_the_sender_given_as_options(tmp_path, engine):
    from loaders.service import IngestOptions, ingest_files
    from tests.conftest import CPA, PARTNER, PRIME

    path = _blank_template_with_rows(tmp_path / "blank.xlsx")
    options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03")
    [result] = ingest_files(engine, [(path.name, path)], options)
    assert result.status == "loaded", [p.message for p in result.errors]
    assert result.layout == "wpmi_template"
    assert (result.partner, result.contract_id, result.period) == (PARTNER, "CPA05-ingeus", date(2013, 3, 1))
    assert result.rows["Participants"] == 3


def test_a_header_value_typed_into_the_template_still_wins_over_the_options(tmp_path, engine):
    from loaders.service import IngestOptions, ingest_files
    from tests.conftest import CPA, PARTNER, PRIME

    path = _blank_template_with_rows(tmp_path / "half.xlsx", header={"Reporting period": "2013-02"})
    options = IngestOptions(partner=PARTNER, prime=PRIME, cpa=CPA, period="2013-03")
    [result] = ingest_files(engine, [(path.name, path)], options)
    assert result.status == "loaded", [p.message for p in result.errors]
    assert (result.partner, result.period) == (PARTNER, date(2013, 2, 1))


def test_header_help_text_is_never_read_as_a_value():
    from dashboard.fields import HEADER_BLOCK
    from loaders.template import is_header_help

    # Wherever the help lands (column B after a paste, or read with the empty input cell dropped), it is "not
    # stated"; the comparison ignores case and spacing, and real values are kept.
    rows = [["wpmi standard MI template v1"], []]
    rows += [[label, f"  {help_.upper()} "] for label, _key, help_ in HEADER_BLOCK]
    assert read_header_block(rows) == {"partner": None, "prime": None, "cpa": None, "period": None}
    assert all(is_header_help(help_) for _label, _key, help_ in HEADER_BLOCK)
    assert not any(is_header_help(v) for v in ("Ingeus", "2013-03", 5, None, ""))
