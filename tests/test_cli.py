"""The `wpmi` command: exit codes, folders, reports, docs that list every command, and what it imports."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys

from loaders.cli import build_parser, main
from loaders.demo import writers
from tests.conftest import HEADER, ROOT, participants


def test_ingest_exits_0_when_every_file_lands(tmp_path, db_url, engine):
    folder = tmp_path / "in"
    folder.mkdir()
    writers.write_standard(folder / "a.xlsx", HEADER, participants(2))
    assert main(["ingest", str(folder), "--db", db_url, "-q"]) == 0


def test_ingest_exits_1_and_writes_a_report_when_a_file_is_rejected(tmp_path, db_url, engine):
    good = writers.write_standard(tmp_path / "good.xlsx", HEADER, participants(2))
    bad = writers.write_standard(tmp_path / "bad.xlsx", HEADER, participants(2, payment_group=["PG1", "PG0"]))
    report = tmp_path / "report.csv"
    assert main(["ingest", str(good), str(bad), "--db", db_url, "--report", str(report), "-q"]) == 1
    rows = list(csv.DictReader(report.open(encoding="utf-8-sig", newline="")))  # with a BOM, for Excel
    assert [(r["file"], r["code"], r["row"], r["column"], r["value"]) for r in rows if r["severity"] == "error"] == [
        ("bad.xlsx", "bad_payment_group", "3", "payment_group", "PG0")
    ]


def test_csv_report_defuses_values_a_spreadsheet_would_run_as_formulas(tmp_path, db_url, engine):
    bad = writers.write_standard(
        tmp_path / "bad.xlsx", HEADER, participants(2, payment_group=["PG1", "@SUM(1+9)*cmd|' /C calc'!A0"])
    )
    report = tmp_path / "report.csv"
    assert main(["ingest", str(bad), "--db", db_url, "--report", str(report), "-q"]) == 1
    rows = list(csv.DictReader(report.open(encoding="utf-8-sig", newline="")))
    assert [r["value"] for r in rows if r["code"] == "bad_payment_group"] == ["'@SUM(1+9)*cmd|' /C calc'!A0"]


def test_a_report_name_wpmi_cannot_write_is_a_usage_error_before_anything_loads(tmp_path, db_url, engine):
    from sqlalchemy import text

    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2))
    assert main(["ingest", str(path), "--db", db_url, "--report", str(tmp_path / "r.xls"), "-q"]) == 2
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM submission")).scalar() == 0


def test_json_report_groups_problems_by_type_with_counts(tmp_path, db_url, engine):
    bad = writers.write_standard(tmp_path / "bad.xlsx", HEADER, participants(3, payment_group=["PGX", "PGY", "PG1"]))
    report = tmp_path / "r.json"
    assert main(["ingest", str(bad), "--db", db_url, "--report", str(report), "-q"]) == 1
    data = json.loads(report.read_text())
    assert data[0]["status"] == "rejected"
    assert data[0]["summary"][0] == {"severity": "error", "code": "bad_payment_group", "count": 2}


def test_usage_errors_exit_2(tmp_path, db_url):
    assert main(["ingest", str(tmp_path / "nope.xlsx"), "--db", db_url]) == 2
    try:
        main(["ingest", "--cpa", "99", "x.xlsx"])
    except SystemExit as exc:  # argparse's own usage errors
        assert exc.code == 2
    else:
        raise AssertionError("argparse accepted --cpa 99")


def test_dry_run_writes_nothing(tmp_path, db_url, engine):
    from sqlalchemy import text

    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2))
    assert main(["ingest", str(path), "--db", db_url, "--dry-run", "-q"]) == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM submission")).scalar() == 0


def test_template_command_writes_a_workbook_that_validates(tmp_path, db_url):
    out = tmp_path / "template.xlsx"
    assert main(["template", str(out), "--partner", "X", "--prime", "Ingeus", "--cpa", "5"]) == 0
    from loaders.readers import read_file
    from loaders.template import is_template, read_header_block

    book = read_file(out)
    rows = book.sheet("Instructions").rows
    assert is_template(rows) and read_header_block(rows)["partner"] == "X"


def test_init_twice_succeeds(db_url):
    assert main(["init", "--db", db_url]) == 0
    assert main(["init", "--db", db_url]) == 0


def test_every_cli_command_and_option_is_documented():
    doc = (ROOT / "docs" / "cli.md").read_text()
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subparsers.choices.items():
        assert f"wpmi {name}" in doc, f"docs/cli.md does not document `wpmi {name}`"
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert re.search(re.escape(flag) + r"\b", doc), f"docs/cli.md does not mention {flag} of {name}"


# A fresh interpreter runs `wpmi ARGS` as the console script does, then lists the top-level packages it imported.
IMPORT_PROBE = """
import sys
from loaders.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("IMPORTED", " ".join(sorted({name.split(".")[0] for name in sys.modules})))
sys.exit(code)
"""


def imported_by(*args: str) -> set[str]:
    """The top-level packages a fresh `wpmi ARGS` imports (fails the test when the command fails)."""
    proc = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return set(proc.stdout.rsplit("IMPORTED", 1)[1].split())


def test_help_imports_no_pandas_scipy_sqlalchemy_or_rich():
    assert imported_by("--help") & {"pandas", "numpy", "scipy", "sqlalchemy", "rich"} == set()


def test_ingest_imports_no_streamlit_or_altair(tmp_path, db_url, engine):
    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2))
    report = tmp_path / "r.csv"
    assert (
        imported_by("ingest", str(path), "--db", db_url, "-q", "--report", str(report)) & {"streamlit", "altair"}
        == set()
    )


def test_ingest_imports_no_scipy(tmp_path, db_url, engine):
    path = writers.write_standard(tmp_path / "a.xlsx", HEADER, participants(2))
    assert "scipy" not in imported_by("ingest", str(path), "--db", db_url, "-q")


# --- wpmi layouts list | check | explain, and ingest --layouts DIR (issue 13 item 4) -------------------------------

USER_PROFILE = """
name = "acme_cms"
description = "Acme CMS extract: Started and Outcome columns"

[[sheets]]
target = "Participants"
sheet = "extract"

[sheets.columns]
participant_ref = ["Ref"]
attachment_date = ["Started"]
job_outcome_date = ["Outcome"]
"""


def _cms_workbook(path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Extract"
    ws.append(["Ref", "PG", "Referred", "Started", "Outcome", "Office"])
    ws.append(["A0001", "PG1", "02/01/2013", "08/01/2013", "01/05/2013", "Leeds"])
    ws.append(["A0002", "PG2", "03/01/2013", "09/01/2013", None, "Leeds"])
    wb.save(path)
    return path


def _user_layouts(tmp_path):
    folder = tmp_path / "layouts"
    folder.mkdir()
    (folder / "acme_cms.toml").write_text(USER_PROFILE, encoding="utf-8")
    (folder / "monthly_wide.toml").write_text(
        USER_PROFILE.replace('"acme_cms"', '"monthly_wide"').replace('"extract"', '"summary"'), encoding="utf-8"
    )
    return folder


def test_layouts_list_names_each_profile_where_it_came_from_and_what_it_matches(tmp_path, capsys):
    folder = _user_layouts(tmp_path)
    assert main(["layouts", "list", "--layouts", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "wpmi_template" in out and "shipped" in out
    assert "acme_cms" in out and "acme_cms.toml" in out
    assert re.search(r"monthly_wide.*replaces the shipped", out, re.DOTALL)
    assert "Participants" in out


def test_layouts_check_prints_ok_or_each_error_and_exits_1(tmp_path, capsys):
    folder = _user_layouts(tmp_path)
    assert main(["layouts", "check", str(folder / "acme_cms.toml")]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["layouts", "check", "caseload_title_block"]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(USER_PROFILE.replace("attachment_date", "attachmnt_date").replace("sheet =", "sheeet ="))
    assert main(["layouts", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "sheets[1].sheeet" in out and "'sheet'" in out
    assert "sheets[1].columns.attachmnt_date" in out and "'attachment_date'" in out
    assert main(["layouts", "check", "no_such_profile"]) == 2


def test_layouts_explain_says_which_profile_matches_and_maps_each_column_without_loading(
    tmp_path, capsys, db_url, engine
):
    from sqlalchemy import text

    folder = _user_layouts(tmp_path)
    path = _cms_workbook(tmp_path / "cms.xlsx")
    assert main(["layouts", "explain", str(path), "--layouts", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "layout acme_cms" in out
    assert re.search(r"'Started'\s+->\s+attachment_date", out)
    assert re.search(r"'Outcome'\s+->\s+job_outcome_date", out)
    assert re.search(r"'Office'.*ignored", out)
    assert main(["layouts", "explain", str(path)]) == 0  # without the folder: synonyms alone
    out = capsys.readouterr().out
    assert "auto" in out and re.search(r"'Outcome'.*ignored", out)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM submission")).scalar() == 0


def test_ingest_uses_profiles_from_layouts_dir(tmp_path, db_url, engine, capsys):
    from sqlalchemy import text

    folder = _user_layouts(tmp_path)
    path = _cms_workbook(tmp_path / "cms.xlsx")
    args = ["ingest", str(path), "--db", db_url, "-q", "--partner", HEADER["partner"], "--prime", HEADER["prime"]]
    args += ["--cpa", str(HEADER["cpa"]), "--period", "2013-05", "--layouts", str(folder)]
    assert main(args) == 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT layout FROM submission")).scalars().all() == ["acme_cms"]
        assert (
            conn.execute(text("SELECT COUNT(*) FROM v_participants WHERE job_outcome_date IS NOT NULL")).scalar() == 1
        )
