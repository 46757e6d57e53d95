"""The one settings table: every setting documented, read by the code, and nothing read around it."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date

import pytest

from dashboard import settings
from loaders.limits import Limits

ROOT = settings.ROOT
PACKAGE_SOURCES = [p for folder in ("dashboard", "loaders", "pages") for p in (ROOT / folder).rglob("*.py")]
PACKAGE_SOURCES.append(ROOT / "streamlit_app.py")


def test_docs_settings_md_is_generated_from_the_table():
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == settings.markdown(), (
        "docs/settings.md is stale: run `python -m dashboard.settings > docs/settings.md`"
    )


def test_every_setting_is_read_by_the_code():
    read = {f.name for f in fields(Limits)}  # Limits.from_env reads each of its fields by name
    for path in PACKAGE_SOURCES:
        if path.name != "settings.py":
            read |= set(re.findall(r"""settings\.get\(\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    unread = {s.name for s in settings.SETTINGS} - read
    assert not unread, f"settings declared but read by nothing: {sorted(unread)}"
    assert read <= set(settings.BY_NAME), f"code reads undeclared settings: {sorted(read - set(settings.BY_NAME))}"


def test_no_code_reads_a_wpmi_variable_around_the_table():
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in PACKAGE_SOURCES
        if p.name != "settings.py"
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "os.environ" in line or "getenv" in line
    ]
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("name", "raw", "expected"),
    [
        ("min_denominator", "50", 50),
        ("max_rows", "2,500", 2500),
        ("max_file_mb", "0.5", 0.5),
        ("official_cutoff", "2015-12-31", date(2015, 12, 31)),
        ("mode", "public", "public"),
    ],
)
def test_a_setting_comes_from_its_environment_variable_as_its_type(name, raw, expected):
    assert settings.get(name, {settings.BY_NAME[name].env_var: raw}) == expected
    assert settings.get(name, {}) == settings.BY_NAME[name].default


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("min_denominator", "0", "WPMI_MIN_DENOMINATOR must be a number above 0 (default 30), not '0'"),
        ("max_rows", "lots", "WPMI_MAX_ROWS must be a number above 0 (default 2,000,000), not 'lots'"),
        ("official_cutoff", "March 2017", "WPMI_OFFICIAL_CUTOFF must be a valid date (default 2017-03-31)"),
    ],
)
def test_a_bad_value_names_the_variable_its_default_and_what_it_does(name, raw, message):
    with pytest.raises(settings.SettingError, match=re.escape(message)):
        settings.get(name, {settings.BY_NAME[name].env_var: raw})
