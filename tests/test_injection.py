"""Issue 11 item 4, "user text is text": names from files and people render literally and export safely.

Every partner, prime and CPA name, contract end reason, standard text, participant reference, file name, layout
and actor in a copy of the demo is given Markdown, HTML, LaTeX, Streamlit directives and shortcodes, bare URLs,
formulas after a delimiter and bidi controls. Each page is then run through AppTest and every element it sends is
walked (`sources`): each string the browser renders as Markdown (bodies of markdown, captions, headings and
alerts; labels and help of every widget, tab, expander and metric; progress text; radio, segmented-control and
select-slider options; st.table cells) is parsed with a CommonMark parser with raw HTML on (markdown-it-py, the
strictest reading) and checked the way Streamlit's own renderer would read it (`markdown_problems`): no image,
no link to the hostile address, no raw HTML, no LaTeX, directive or shortcode left unescaped, no bare URL or
e-mail that remark-gfm would turn into a link, and wherever a hostile name shows, the whole of it as text.
Strings Streamlit shows as plain text (selectbox and multiselect options, dataframe cells) must carry the
name unchanged. Every CSV and Excel download is read with `,` `;` tab and `|` as delimiters: no
segment of any field may start a formula, no cell is a formula, no bidi or other format character is left.
"""

from __future__ import annotations

import csv
import html
import io
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import pytest
from markdown_it import MarkdownIt
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from dashboard.ui import WORD_JOINER, md_escape
from tests.conftest import ROOT
from tests.test_exports import format_characters, formula_segments

PARTNER = (
    "![x](http://evil.example/p.png) <img src=x onerror=alert(1)> **bold** $x^2$ :red[red] "
    "[link](http://evil.example) Foo;=cmd|' /C calc'!A0"
)
PRIME = "\u202e_it_ `code` <b>b</b> :material/warning: :smile: www.evil.example a@evil.example ~~s~~ |x| a\t=1+1"
CPA = "[cpa](http://evil.example/cpa) :streamlit: $$y$$ &lt; &#60;b&#62; Bar,@SUM(A1)"
TEXT = "<script>alert(1)</script> ![t](http://evil.example/t.png) :blue-background[t] *t* \u2066x\u2069 Baz|-2+3"
REF = '=HYPERLINK("http://evil.example","r") ![r](http://evil.example/r.png)'
FILE = "![f](https:evil.example) <img src=x onerror=alert(1)> **f** $f$ :red[f] [l](https:evil.example)"
HOSTILE = (PARTNER, PRIME, CPA, TEXT, REF, FILE)
MARKER = "evil"
TIMEOUT = 180

# -- reading text as Streamlit's Markdown renderer would ------------------------------------------------------

COMMONMARK = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# A backslash before any ASCII punctuation makes it a literal character (CommonMark "backslash escapes").
ESCAPED = re.compile(r"\\[!-/:-@\[-`{-~]")
CODE = re.compile(r"(`+)[^`]*?\1")
# Streamlit (1.67 frontend, StreamlitMarkdown): remark-math runs when the source has "$...$" or "$$...$$" outside
# code; remark-directive turns ":name[...]" into colour, badge or small text; shortcodes (":smile:",
# ":material/icon:", ":streamlit:") become emoji, icons and the logo image.
MATH = re.compile(r"(?<!\$)\$\$+(?!\$)[\s\S]*?\$\$|(?<!\$)\$(?![\s$])[^$\n]*?[^\s$]\$(?!\d)")
DIRECTIVE = re.compile(r":[a-z][a-z0-9-]*\[")
SHORTCODE = re.compile(r":(?:material/)?[\w+-][\w+-]*:")
# remark-gfm links bare URLs and e-mail addresses found in text after escapes are resolved.
AUTOLINK = re.compile(r"(?i)(https?://|www\.)[-\w]|[-.\w+]+@[-\w]+(\.[-\w]+)+")
TAG = re.compile(r"<[^>]+>")
WHITESPACE = re.compile(r"[\s\x00-\x1f]+")


def normalised(text: str) -> str:
    """Text as a reader compares it: format characters (bidi controls, joiners) dropped, whitespace collapsed."""
    visible = "".join(c for c in text if unicodedata.category(c) != "Cf")
    return WHITESPACE.sub(" ", visible).strip()


def rendered_text(source: str) -> str:
    """The text a CommonMark renderer shows for `source` (tags dropped, entities decoded)."""
    return html.unescape(TAG.sub("", COMMONMARK.render(source)))


def markdown_problems(source: str, names: tuple[str, ...] = HOSTILE) -> list[str]:
    """What a string rendered as Markdown would do beyond showing text, judged as Streamlit's renderer reads it."""
    problems = []
    rendered = COMMONMARK.render(source)
    if re.search(r"<img\b", rendered, re.IGNORECASE):
        problems.append("an image")
    if re.search(r"<a\s[^>]*href=\"[^\"]*evil", rendered, re.IGNORECASE):
        problems.append("a link to the hostile address")
    raw = re.search(r"<(script|img|b)\b[^>]*>", rendered, re.IGNORECASE)
    if raw:
        problems.append(f"raw HTML {raw.group(0)!r}")
    if ":material/" in source and MARKER in source.lower():  # replaced in the raw source, escapes or not
        problems.append("a Material icon shortcode")
    plain = CODE.sub("_", ESCAPED.sub("_", source))
    if MATH.search(plain):
        problems.append(f"LaTeX {MATH.search(plain).group(0)!r}")
    if DIRECTIVE.search(plain):
        problems.append(f"a Streamlit directive {DIRECTIVE.search(plain).group(0)!r}")
    if SHORTCODE.search(plain):
        problems.append(f"a shortcode {SHORTCODE.search(plain).group(0)!r}")
    text = rendered_text(source)
    if ":streamlit:" in text:  # found in the text once escapes are resolved: the logo image
        problems.append("the :streamlit: logo")
    if AUTOLINK.search(text):
        problems.append(f"a bare address remark-gfm links {AUTOLINK.search(text).group(0)!r}")
    shown = normalised(text)
    if MARKER in shown.lower() and not any(normalised(h) in shown for h in names):
        problems.append(f"a hostile name not shown literally: {shown!r}")
    return problems


# -- the one helper -------------------------------------------------------------------------------------------------

MORE = [
    "HTTPS://EVIL.EXAMPLE/x http://evil.example",
    "mail a@evil.example or b@[evil]",
    ":streamlit: :material/home: :+1: :smile: evil",
    "evil \\*not bold\\* __u__ _i_",
    "evil\n# heading\n- item\n> quote\n1. one\n===\n    code",
    "evil <!-- c --> &amp; &#x3C;img&#x3E; <https://evil.example> <a@evil.example>",
    "evil ~~s~~ ~s~ | a | b |\n|---|---|",
    "evil `x` ``y`` $$\nx\n$$ $5 and $10",
    "evil :red-background[x] :small[x] :shimmer[x] ::: :::",
    "evil [x]: http://evil.example\n[x]",
    "evil \\",
    "evil \u202eexe.gnp\u2066 \u200b\ufeff",
    ":material/home: evil",
    "1. evil",
    "2) evil",
    "- evil",
    "+ evil",
    "# evil",
    "> evil",
    "=== evil",
    "--- evil",
    "    evil",
    "| evil |",
    "<evil>",
]


@pytest.mark.parametrize("text", [*HOSTILE, *MORE])
def test_md_escape_renders_as_the_text_itself(text):
    escaped = md_escape(text)
    assert not markdown_problems(escaped, (text,))
    assert normalised(rendered_text(escaped)) == normalised(text)
    assert "\n" not in escaped and "\r" not in escaped  # one line: it can open no block
    assert not format_characters(escaped.replace(WORD_JOINER, ""))  # bidi controls and the like are gone
    inline = f"**{escaped}** · _{escaped}_ · [{escaped}](#here)"  # inside the page's own Markdown too
    assert not markdown_problems(inline, (text,))
    assert normalised(rendered_text(inline)) == normalised(f"{text} · {text} · {text}")


def test_md_escape_leaves_ordinary_names_readable():
    assert md_escape("Tyneside Pathways Trust") == "Tyneside Pathways Trust"
    assert md_escape("St. Mary's (CPA 5), Tyne-side; 50%") == "St. Mary's (CPA 5), Tyne-side; 50%"
    assert md_escape("upload.xlsx") == "upload.xlsx"
    assert md_escape("1. A & B: *C*") == "1\\. A \\& B\\: \\*C\\*"
    assert md_escape(5) == "5"


# -- walking what a page sends ---------------------------------------------------------------------------------

# Elements whose options Streamlit renders as Markdown (selectbox and multiselect options are plain text).
MARKDOWN_OPTIONS = {"Radio", "ButtonGroup", "Slider"}
MARKDOWN_FIELDS = {"body", "label", "help", "text", "content"}
PLAIN_FIELDS = {"options", "default", "value", "placeholder"}
NOT_MARKDOWN = {"Metric": {"body"}, "VegaLiteChart": MARKDOWN_FIELDS, "ArrowVegaLiteChart": MARKDOWN_FIELDS}


def _nodes(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def _strings(message, path: str) -> Iterator[tuple[str, str, str]]:
    """(path, field name, value) of every string field of a protobuf message, nested messages included."""
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        for i, item in enumerate(values):
            where = f"{path}.{field.name}" + (f"[{i}]" if field.is_repeated else "")
            if isinstance(item, str):
                yield where, field.name, item
            elif hasattr(item, "ListFields"):
                yield from _strings(item, where)


def sources(at: AppTest) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(where, text) of every string the page renders as Markdown, and of every string it shows as plain text."""
    markdown, plain = [], []
    for index, node in enumerate(_nodes(at._tree)):
        proto = getattr(node, "proto", None)
        kind = type(proto).__name__
        where = f"{getattr(node, 'type', kind)}#{index}"
        if kind == "Markdown" and proto.element_type == proto.Type.CODE:
            plain.append((where, proto.body))
            continue
        if getattr(node, "type", None) == "table":
            frame = node.value
            cells = [str(c) for c in frame.columns] + [str(i) for i in frame.index]
            cells += [str(v) for v in frame.to_numpy().ravel()]
            markdown += [(f"{where} cell", c) for c in cells]
            continue
        if getattr(node, "type", None) == "dataframe":
            frame = node.value
            cells = [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]
            plain += [(f"{where} cell", c) for c in cells]
            continue
        if proto is None or not hasattr(proto, "ListFields"):
            continue
        for path, name, value in _strings(proto, where):
            if name in NOT_MARKDOWN.get(kind, set()):
                continue
            if name == "options" and kind in MARKDOWN_OPTIONS or name in MARKDOWN_FIELDS:
                markdown.append((path, value))
            elif name in PLAIN_FIELDS:
                plain.append((path, value))
    return markdown, plain


# -- downloads ----------------------------------------------------------------------------------------------------


def download_problems(name: str, data: bytes) -> list[str]:
    problems = []
    if name.endswith(".csv"):
        text = data.decode("utf-8-sig")
        problems += [f"{name}: format characters {format_characters(text)}"] if format_characters(text) else []
        for delimiter in (",", ";", "\t", "|"):
            for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                for field in row:
                    problems += [f"{name} ({delimiter!r}): {s!r} in {field!r}" for s in formula_segments(field)]
        for line in text.splitlines():  # a reader that ignores quotes altogether
            problems += [f"{name} (no quotes): {s!r}" for s in formula_segments(line)]
    elif name.endswith(".xlsx"):
        workbook = load_workbook(io.BytesIO(data))
        for sheet in workbook.worksheets:
            for cell in (c for row in sheet.iter_rows() for c in row):
                if cell.data_type == "f":
                    problems.append(f"{name} {sheet.title}!{cell.coordinate}: a formula {cell.value!r}")
                if isinstance(cell.value, str):
                    segments = formula_segments(cell.value)
                    problems += [f"{name} {sheet.title}!{cell.coordinate}: {s!r}" for s in segments]
                    if format_characters(cell.value):
                        problems.append(f"{name} {sheet.title}!{cell.coordinate}: {format_characters(cell.value)}")
    return problems


@contextmanager
def _media_spy() -> Iterator[dict[str, tuple[bytes, str | None]]]:
    """Every file Streamlit stores for the browser (download buttons' bytes), by file id."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stored: dict[str, tuple[bytes, str | None]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        data = path_or_data if isinstance(path_or_data, bytes) else Path(path_or_data).read_bytes()
        stored[file_id] = (data, filename)
        return file_id

    with mock.patch.object(MemoryMediaFileStorage, "load_and_get_id", spy):
        yield stored


def downloads(at: AppTest, stored: dict[str, tuple[bytes, str | None]]) -> list[tuple[str, bytes]]:
    out = []
    for button in at.get("download_button"):
        data, filename = stored[Path(button.proto.url).stem]
        out.append((filename or button.proto.url, data))
    return out


# -- the hostile database -------------------------------------------------------------------------------------------


def _tables_with(conn: sqlite3.Connection, column: str) -> list[str]:
    tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [t for t in tables if column in {r[1] for r in conn.execute(f"PRAGMA table_info({t})")}]


@pytest.fixture(scope="module")
def hostile_db(demo_db, tmp_path_factory) -> str:
    """A copy of the demo with hostile text in every name, reference and label that came from a file or a person."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.sqlite"
    source = sqlite3.connect(demo_db.removeprefix("sqlite:///"))
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    prefix = {
        ("partner", "partner_name"): PARTNER,
        ("prime", "prime_name"): PRIME,
        ("cpa", "cpa_name"): CPA,
        ("contract", "end_reason"): TEXT,
        ("standard", "title"): TEXT,
        ("standard", "quote"): TEXT,
        ("standard", "source"): TEXT,
        ("submission", "file_name"): FILE,
        ("submission", "layout"): TEXT,
        ("submission", "loaded_by"): TEXT,
        ("audit_log", "file_name"): FILE,
        ("audit_log", "actor"): TEXT,
    }
    prefix.update({(t, "participant_ref"): REF for t in _tables_with(target, "participant_ref")})
    with target:
        for (table, column), text in prefix.items():
            target.execute(
                f"UPDATE {table} SET {column} = ? || ' ' || {column} WHERE {column} IS NOT NULL",
                (text,),
            )
    target.close()
    return f"sqlite:///{path}"


def _one(url: str, sql: str):
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


# -- running the pages ------------------------------------------------------------------------------------------------


def run(page: str, monkeypatch, url: str, stored, query: dict | None = None, widgets: dict | None = None) -> AppTest:
    monkeypatch.setenv("WPMI_DB_URL", url)
    at = AppTest.from_file(str(ROOT / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    for key, value in (widgets or {}).items():
        at.selectbox(key=key).set_value(value).run()
    assert not at.exception, f"{page}: {[e.value for e in at.exception]}"
    return at


def check(at: AppTest, stored, *, shows: tuple[str, ...] = (PARTNER,)) -> None:
    """Everything the page sent renders hostile text literally, shows the names in `shows`, and exports safely."""
    markdown, plain = sources(at)
    problems = [f"{where}: {p}" for where, text in markdown for p in markdown_problems(text)]
    # Plain-text elements show the name exactly as stored: no escaping to see (selectbox options, table cells).
    shown = [text for _, text in plain] + [rendered_text(text) for _, text in markdown]
    problems += [f"the page never shows {n!r}" for n in shows if not any(normalised(n) in normalised(t) for t in shown)]
    overescaped = [(w, t) for w, t in plain if MARKER in t and "\\" in t]
    problems += [f"{where}: escaped in a plain-text element: {text!r}" for where, text in overescaped]
    for name, data in downloads(at, stored):
        problems += download_problems(name, data)
    downloads_found = sum(".csv" in p.split(":")[0] or ".xlsx" in p.split(":")[0] for p in problems)
    shown_problems = "\n".join(p[:300] for p in problems[:30])
    assert not problems, f"{len(problems)} problems ({downloads_found} in downloads):\n{shown_problems}"


PAGES = {
    "overview": {},
    "benchmarks": {},
    "benchmarks-contracts": {"query": {"level": "Prime contracts"}},
    "referrals": {},
    "standards": {},
    "supply_chain": {},
    "risk": {},
}


@pytest.mark.parametrize("case", list(PAGES))
def test_page_shows_hostile_names_literally_and_exports_them_safely(case, hostile_db, monkeypatch):
    page = case.split("-")[0]
    with _media_spy() as stored:
        at = run(page, monkeypatch, hostile_db, stored, **PAGES[case])
    shows = {"standards": (PARTNER, PRIME, TEXT), "benchmarks-contracts": (PRIME,)}.get(case, (PARTNER,))
    check(at, stored, shows=shows)


def test_partner_profile_header_shows_the_hostile_partner_and_prime_literally(hostile_db, monkeypatch):
    with_cohorts = _one(hostile_db, "SELECT MIN(partner_id) FROM cohort_summary")
    with _media_spy() as stored:
        at = run("partner", monkeypatch, hostile_db, stored, widgets={"partner": with_cohorts})
    check(at, stored, shows=(PARTNER, PRIME))
    header = [m.value for m in at.markdown if MARKER in m.value]
    assert header, "the partner's header line is missing"


def test_partner_profile_without_cohorts_names_the_hostile_partner_literally(hostile_db, monkeypatch):
    without = _one(
        hostile_db,
        "SELECT MIN(s.partner_id) FROM submission s WHERE s.status = 'current' "
        "AND s.partner_id NOT IN (SELECT partner_id FROM cohort_summary)",
    )
    with _media_spy() as stored:
        at = run("partner", monkeypatch, hostile_db, stored, widgets={"partner": without})
    check(at, stored)
    assert any(MARKER in i.value for i in at.info)


def test_supply_chain_ended_contract_shows_its_reason_literally(hostile_db, monkeypatch):
    ended = _one(hostile_db, "SELECT MIN(contract_id) FROM contract WHERE end_reason IS NOT NULL")
    with _media_spy() as stored:
        at = run("supply_chain", monkeypatch, hostile_db, stored, widgets={"contract": ended})
    check(at, stored, shows=(PARTNER, TEXT))
    assert any("ended early" in i.value for i in at.info)


def test_standards_drill_down_shows_hostile_references_and_texts_literally(hostile_db, monkeypatch):
    conn = sqlite3.connect(hostile_db.removeprefix("sqlite:///"))
    partner, cpa, standard, prime = conn.execute(
        "SELECT pa.partner_name, k.cpa_code, m.standard_id, k.prime_id FROM compliance_missed m "
        "JOIN partner pa ON pa.partner_id = m.partner_id JOIN contract k ON k.contract_id = m.contract_id "
        "ORDER BY m.partner_id, m.contract_id, m.standard_id LIMIT 1"
    ).fetchone()
    conn.close()
    with _media_spy() as stored:
        at = run("standards", monkeypatch, hostile_db, stored, widgets={"std_prime": prime})
        chooser = at.selectbox(key="std_partner")
        chooser.select_index(chooser.options.index(f"{partner} (CPA {cpa})")).run()
        at.selectbox(key="std_standard").set_value(standard).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(c.value.endswith("to follow up:") and not c.value.startswith("0 ") for c in at.caption)
    check(at, stored, shows=(PARTNER, PRIME, TEXT, REF))


def test_contract_risk_with_every_sector_shows_hostile_names_literally(hostile_db, monkeypatch):
    with _media_spy() as stored:
        at = run("risk", monkeypatch, hostile_db, stored, query={"vcs": "false"})
    check(at, stored, shows=(PARTNER, PRIME))


def test_data_page_history_shows_hostile_files_literally_and_exports_them_safely(hostile_db, monkeypatch):
    with _media_spy() as stored:
        at = run("data", monkeypatch, hostile_db, stored)
    check(at, stored, shows=(PARTNER, PRIME, FILE, TEXT))


def test_data_page_upload_reports_a_hostile_file_name_partner_and_sheet_literally(
    tmp_path, engine, db_url, monkeypatch
):
    from loaders.demo import writers
    from tests.conftest import CPA as CPA_CODE
    from tests.conftest import PRIME as PRIME_NAME
    from tests.conftest import participants

    good = writers.write_csv(tmp_path / "good.csv", participants(3), "utf-8-sig").read_bytes()
    refs = [f"{REF} {i}" for i in range(3)]
    bad = writers.write_csv(tmp_path / "bad.csv", participants(3, participant_ref=refs), "utf-8-sig").read_bytes()
    bad = bad.replace(b"02/01/2013", b"not a date")  # an error located in a cell: previewed under its sheet
    with _media_spy() as stored:
        monkeypatch.setenv("WPMI_DB_URL", db_url)
        at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=TIMEOUT)
        at.run()
        uploader = at.file_uploader(key="uploads")
        uploader.upload(f"{FILE}.csv", good, "text/csv")
        uploader.upload(f"{FILE} bad.csv", bad, "text/csv")
        at.run()
        at.text_input(key="up_partner").input(PARTNER)
        at.text_input(key="up_prime").input(PRIME_NAME)
        at.number_input(key="up_cpa").set_value(CPA_CODE)
        at.text_input(key="up_period").input("2013-03")
        at.checkbox(key="up_register").check()
        at.button(key="up_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.success and at.error, "one upload loads and one is rejected"
    check(at, stored, shows=(PARTNER, FILE))
