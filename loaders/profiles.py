"""The layout-profile language: what a profile may say, checked when it is read, and where profiles come from.

A profile (data/layouts/*.toml, or a user's own folder: --layouts DIR or WPMI_LAYOUTS_DIR) says how a prime's MI
workbook maps onto the wpmi sheets. SCHEMA is the one home of the keys it may hold; field and sheet names come from
the data dictionary (dashboard/fields.py). loaders/layouts.py applies the profiles to a workbook.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from dashboard import fields as F
from dashboard import settings
from dashboard.settings import ROOT
from loaders.cleaning import cell_format_problem
from loaders.errors import LayoutProfileError

LAYOUTS_DIR = ROOT / "data" / "layouts"
LAYOUTS_DOC = "docs/layouts.md"  # the reference for writing a profile, named by "no MI found"
DEFAULT_SKIP = r"^(total|totals|grand total|sub ?total|notes?|source|end of report|\*)\b"


@dataclass
class WideSpec:
    """Months across the columns: one row per measure and payment group."""

    measure_column: list[str]
    group_column: list[str]
    measures: dict[str, list[str]]
    total_labels: list[str] = field(default_factory=lambda: ["total", "all", "all groups", "ytd", "year to date"])


@dataclass
class GroupsAcross:
    """Months down the rows, payment groups across the columns: one sheet per measure (`measure`), or the measure
    named in each column's header too (`measures`, e.g. a two-row header: payment group over measure)."""

    month_column: list[str]
    measure: str | None = None
    measures: dict[str, list[str]] = field(default_factory=dict)
    total_labels: list[str] = field(default_factory=lambda: ["total", "all", "all groups", "ytd", "year to date"])


@dataclass
class SheetProfile:
    target: str
    sheet: str = ".*"
    header_labels: list[str] = field(default_factory=list)
    header_rows: int = 1
    columns: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    skip_rows: str = DEFAULT_SKIP
    required: bool = True
    wide: WideSpec | None = None
    groups_across: GroupsAcross | None = None
    number_locale: str | None = None  # cell formats (loaders/cleaning.py): the sheet's, else the profile's
    date_order: str | None = None

    @property
    def spec(self) -> F.Sheet:
        return F.SHEETS_BY_NAME[self.target]


@dataclass
class LayoutProfile:
    name: str
    description: str
    sheets: list[SheetProfile]
    meta: list[str] = field(default_factory=list)  # regexes with named groups partner/prime/cpa/period
    template: bool = False  # the wpmi standard template (header block on the Instructions sheet)
    require: tuple[str, ...] = ()  # optional fields a file in this layout must have a column for (as --require)
    path: Path | None = None
    overrides: Path | None = None  # a profile from the user's folder: the shipped file of the same name it replaces


# --- the profile language: every key, checked when a profile is read ---------------------------------------------
# SCHEMA is the one home for the keys a profile may hold, per level ("" is the top of the file, "sheets" each
# [[sheets]] table, "sheets.header" and "sheets.wide" the tables inside one). check_profile reads it, and
# tests/test_layouts.py checks docs/layouts.md's key tables against it. Field and sheet names are never listed
# here: they come from the data dictionary (dashboard/fields.py).
STR, BOOL, COUNT, REGEX, STRINGS, META, SHEETS_LIST, TABLE, TARGET, FIELD_LABELS, MEASURES, VALUES, FORMAT = (
    "a string",
    "true or false",
    "a whole number of 1 or more",
    "a regular expression (a string)",
    "a list of strings",
    "a list of regular expressions",
    "an array of tables ([[sheets]])",
    "a table",
    "a wpmi sheet name",
    "a table of field = [labels]",
    "a table of measure field = [labels]",
    "a table of value translations",
    "a cell format (a string)",
)
SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {  # key -> (what its value is, required)
    "": {
        "name": (STR, True),
        "description": (STR, False),
        "template": (BOOL, False),
        "meta": (META, False),
        "number_locale": (FORMAT, False),
        "date_order": (FORMAT, False),
        "require": (STRINGS, False),
        "sheets": (SHEETS_LIST, True),
    },
    "sheets": {
        "target": (TARGET, True),
        "sheet": (REGEX, False),
        "header": (TABLE, False),
        "columns": (FIELD_LABELS, False),
        "values": (VALUES, False),
        "skip_rows": (REGEX, False),
        "required": (BOOL, False),
        "wide": (TABLE, False),
        "groups_across": (TABLE, False),
        "number_locale": (FORMAT, False),
        "date_order": (FORMAT, False),
    },
    "sheets.header": {"labels": (STRINGS, False), "rows": (COUNT, False)},
    "sheets.wide": {
        "measure_column": (STRINGS, True),
        "group_column": (STRINGS, True),
        "measures": (MEASURES, True),
        "total_labels": (STRINGS, False),
    },
    "sheets.groups_across": {
        "month_column": (STRINGS, True),
        "measure": (STR, False),
        "measures": (MEASURES, False),
        "total_labels": (STRINGS, False),
    },
}
META_GROUPS = ("partner", "prime", "cpa", "period")  # the named groups a meta pattern may capture
TRANSLATED_VALUES = ("payment_group",)  # the fields whose values a profile may translate
WIDE_FIELDS = ("month", "payment_group")  # a months-across sheet's records are keyed by these


def nearest_hint(name: str, valid: list[str], what: str) -> str:
    """'; did you mean 'x'?' with the nearest valid name, else the valid names."""
    close = difflib.get_close_matches(name, valid, n=2, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), [v.lower() for v in valid], n=2, cutoff=0.6)
        close = [v for v in valid if v.lower() in close]
    if close:
        return f"; did you mean {' or '.join(repr(c) for c in close)}?"
    return f" ({what}: {', '.join(valid)})"


def _regex_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"must be {REGEX}"
    try:
        re.compile(value)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return None


def _value_problem(kind: str, value: object) -> str | None:
    """Why a value is not of its kind (None if it is); tables are checked by the caller."""
    if kind in (STR, FORMAT, TARGET) and not isinstance(value, str):
        return f"must be {STR}"
    if kind == BOOL and not isinstance(value, bool):
        return "must be true or false"
    if kind == COUNT and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        return f"must be {COUNT}"
    if kind == REGEX:
        return _regex_problem(value)
    if kind == STRINGS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return f'must be {STRINGS}, e.g. ["Label"]'
    if kind in (TABLE, FIELD_LABELS, MEASURES, VALUES) and not isinstance(value, dict):
        return f"must be {kind}"
    if kind == SHEETS_LIST and not (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
        return "must be one or more [[sheets]] tables"
    if kind == META and not isinstance(value, list):
        return f"must be {META}"
    return None


def _check_table(data: dict, level: str, where: str, out: list[str]) -> dict:
    """Unknown keys, missing required keys and wrongly typed values of one table; the keys that are fine."""
    schema = SCHEMA[level]
    good = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else key
        if key not in schema:
            out.append(f"{path}: unknown key {key!r}{nearest_hint(key, list(schema), 'keys here')}")
            continue
        problem = _value_problem(schema[key][0], value)
        if problem:
            out.append(f"{path} {problem}")
            continue
        good[key] = value
    for key, (_, required) in schema.items():
        if required and key not in data:
            out.append(f"{where + ': ' if where else ''}missing required key {key!r}")
    return good


def _check_meta(patterns: list, out: list[str]) -> None:
    for n, pattern in enumerate(patterns, 1):
        problem = _regex_problem(pattern)
        if problem:
            out.append(f"meta[{n}] {problem}")
            continue
        groups = list(re.compile(pattern).groupindex)
        if not groups:
            out.append(f"meta[{n}] captures nothing: name a group, e.g. (?P<partner>.+)")
        for group in groups:
            if group not in META_GROUPS:
                out.append(f"meta[{n}]: unknown group {group!r}{nearest_hint(group, list(META_GROUPS), 'groups')}")


def _check_labels(table: dict, names: list[str], where: str, what: str, out: list[str]) -> None:
    """A table of field = [labels]: each key a field in `names`, each value a list of strings."""
    for name, labels in table.items():
        if name not in names:
            out.append(f"{where}.{name}: {name!r} is not {what}{nearest_hint(name, names, 'fields')}")
        elif not (isinstance(labels, list) and all(isinstance(v, str) for v in labels)):
            out.append(f'{where}.{name} must be {STRINGS}, e.g. ["Label"]')


def _check_sheet(sheet: dict, where: str, out: list[str]) -> None:
    good = _check_table(sheet, "sheets", where, out)
    spec = None
    if "target" in good:
        spec = F.SHEETS_BY_NAME.get(good["target"])
        if spec is None:
            names = list(F.SHEETS_BY_NAME)
            out.append(
                f"{where}.target: {good['target']!r} is not a wpmi sheet{nearest_hint(good['target'], names, 'sheets')}"
            )
    fields = [f.name for f in spec.fields] if spec else None
    if "header" in good:
        _check_table(good["header"], "sheets.header", f"{where}.header", out)
    if "columns" in good and fields is not None:
        _check_labels(good["columns"], fields, f"{where}.columns", f"a field of {spec.name}" if spec else "", out)
    for name, table in good.get("values", {}).items():
        path = f"{where}.values.{name}"
        if name not in TRANSLATED_VALUES:
            out.append(
                f"{path}: values of {name!r} are not translated{nearest_hint(name, list(TRANSLATED_VALUES), 'only')}"
            )
        elif not (isinstance(table, dict) and all(isinstance(v, str) for v in table.values())):
            out.append(f'{path} must be a table of "label" = "code"')
    problem = cell_format_problem(good.get("number_locale"), good.get("date_order"))
    if problem:
        out.append(f"{where}: {problem}")
    if "wide" in good:
        wide = _check_table(good["wide"], "sheets.wide", f"{where}.wide", out)
        if spec is not None and not set(WIDE_FIELDS) <= set(fields or ()):
            fit = [s.name for s in F.SHEETS if set(WIDE_FIELDS) <= {f.name for f in s.fields}]
            out.append(f"{where}.wide: months across the columns is for {' or '.join(fit)}, not {spec.name}")
        elif spec is not None and "measures" in wide:
            measures = [f for f in fields or () if f not in WIDE_FIELDS]
            _check_labels(wide["measures"], measures, f"{where}.wide.measures", f"a measure of {spec.name}", out)
    if "groups_across" in good:
        _check_groups_across(good, spec, f"{where}.groups_across", out)


def _check_groups_across(sheet: dict, spec: F.Sheet | None, where: str, out: list[str]) -> None:
    across = _check_table(sheet["groups_across"], "sheets.groups_across", where, out)
    if "wide" in sheet:
        out.append(f"{where}: a sheet has months across the columns (wide) or groups across them, not both")
    if spec is None:
        return
    fields = [f.name for f in spec.fields]
    if not set(WIDE_FIELDS) <= set(fields):
        fit = [s.name for s in F.SHEETS if set(WIDE_FIELDS) <= {f.name for f in s.fields}]
        out.append(f"{where}: payment groups across the columns is for {' or '.join(fit)}, not {spec.name}")
        return
    measures = [f for f in fields if f not in WIDE_FIELDS]
    if ("measure" in across) == ("measures" in across):
        out.append(f"{where}: give either measure (one sheet per measure) or measures (named in the headers)")
    if "measure" in across and across["measure"] not in measures:
        name = across["measure"]
        out.append(
            f"{where}.measure: {name!r} is not a measure of {spec.name}{nearest_hint(name, measures, 'measures')}"
        )
    if "measures" in across:
        _check_labels(across["measures"], measures, f"{where}.measures", f"a measure of {spec.name}", out)


def check_profile(data: dict) -> list[str]:
    """Every problem with a profile's keys and values, each "key.path: what is wrong" (none if it is fine)."""
    out: list[str] = []
    good = _check_table(data, "", "", out)
    if "meta" in good:
        _check_meta(good["meta"], out)
    problem = cell_format_problem(good.get("number_locale"), good.get("date_order"))
    if problem:
        out.append(problem)
    optional = F.optional_fields()
    for name in good.get("require", []):
        if name not in optional:
            out.append(f"require: {name!r} is not a field a file may leave out{nearest_hint(name, optional, 'fields')}")
    for n, sheet in enumerate(good.get("sheets", []), 1):
        _check_sheet(sheet, f"sheets[{n}]", out)
    return out


def _shown_path(path: Path | None) -> str:
    if path is None:
        return "profile"
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LayoutProfileError(f"Layout profile {_shown_path(path)} is not valid TOML: {exc}.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise LayoutProfileError(f"Layout profile {_shown_path(path)} cannot be read: {exc}.") from exc


def check_profile_file(path: Path) -> list[str]:
    """`wpmi layouts check`: every problem with one profile file, each prefixed with the file (none if fine)."""
    try:
        data = _read_toml(path)
    except LayoutProfileError as exc:
        return [str(exc)]
    return [f"{_shown_path(path)}: {problem}" for problem in check_profile(data)]


def _profile_from_dict(data: dict, path: Path | None) -> LayoutProfile:
    problems = check_profile(data)
    if problems:
        raise LayoutProfileError(
            f"Layout profile {_shown_path(path)} is malformed: {'; '.join(problems)}. "
            f"See {LAYOUTS_DOC} for every key, and `wpmi layouts check` to check a profile."
        )
    sheets = []
    for s in data["sheets"]:
        header = s.get("header", {})
        sheets.append(
            SheetProfile(
                target=s["target"],
                sheet=s.get("sheet", ".*"),
                header_labels=header.get("labels", []),
                header_rows=header.get("rows", 1),
                columns=s.get("columns", {}),
                values=s.get("values", {}),
                skip_rows=s.get("skip_rows", DEFAULT_SKIP),
                required=s.get("required", True),
                wide=WideSpec(**s["wide"]) if "wide" in s else None,
                groups_across=GroupsAcross(**s["groups_across"]) if "groups_across" in s else None,
                number_locale=s.get("number_locale", data.get("number_locale")),
                date_order=s.get("date_order", data.get("date_order")),
            )
        )
    return LayoutProfile(
        name=data["name"],
        description=data.get("description", ""),
        sheets=sheets,
        meta=data.get("meta", []),
        template=data.get("template", False),
        require=tuple(data.get("require", ())),
        path=path,
    )


def _load_folder(directory: Path) -> dict[str, LayoutProfile]:
    profiles: dict[str, LayoutProfile] = {}
    for path in sorted(directory.glob("*.toml")):
        profile = _profile_from_dict(_read_toml(path), path)
        if profile.name in profiles:
            first = profiles[profile.name].path
            raise LayoutProfileError(
                f"Layout profiles {_shown_path(first)} and {_shown_path(path)} are both named {profile.name!r}: "
                "a name must be unique within a folder."
            )
        profiles[profile.name] = profile
    return profiles


# The folder `wpmi ingest --layouts DIR` names, for the duration of that command (see user_layouts).
_USER_LAYOUTS: ContextVar[Path | None] = ContextVar("wpmi_user_layouts", default=None)


@contextmanager
def user_layouts(directory: Path | str | None) -> Iterator[None]:
    """Within the block, load_profiles() adds the profiles in `directory` (the CLI's --layouts) to the shipped
    ones, in place of the layouts_dir setting; None changes nothing."""
    token = _USER_LAYOUTS.set(Path(directory) if directory else _USER_LAYOUTS.get())
    try:
        yield
    finally:
        _USER_LAYOUTS.reset(token)


def user_layouts_dir(extra_dir: Path | str | None = None) -> tuple[Path, str] | None:
    """The user's profile folder and what named it: `extra_dir`, else --layouts, else the layouts_dir setting."""
    if extra_dir:
        return Path(extra_dir), "the layouts folder"
    if (cli := _USER_LAYOUTS.get()) is not None:
        return cli, "--layouts"
    if configured := str(settings.get("layouts_dir")).strip():
        return Path(configured), f"{settings.BY_NAME['layouts_dir'].env_var} (setting layouts_dir)"
    return None


def load_profiles(directory: Path = LAYOUTS_DIR, extra_dir: Path | str | None = None) -> dict[str, LayoutProfile]:
    """Every layout profile in `directory`, by name, each checked against SCHEMA (LayoutProfileError if not).

    Loading the shipped folder also adds the user's own profiles, kept outside the install: those in
    `extra_dir`, else in the folder --layouts names, else in the layouts_dir setting (WPMI_LAYOUTS_DIR). A user's
    profile with a shipped profile's name replaces it (its `overrides` names the shipped file)."""
    profiles = _load_folder(directory)
    user = user_layouts_dir(extra_dir) if directory == LAYOUTS_DIR else None
    if user is None:
        return profiles
    folder, named_by = user
    if not folder.is_dir():
        raise LayoutProfileError(f"{named_by}: {folder} is not a folder of layout profiles (*.toml).")
    for name, profile in _load_folder(folder).items():
        shipped = profiles.get(name)
        profile.overrides = shipped.path if shipped else None
        profiles[name] = profile
    return profiles
