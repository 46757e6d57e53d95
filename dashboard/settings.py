"""Every setting in one declared table: name, type, default, environment variable and one line of help.

Values come from the environment (`WPMI_<NAME>` in upper case) when set, else the default. Code reads them
through `get`, never from scattered literals or `os.environ`; `docs/settings.md` is generated from this table
(`python -m dashboard.settings > docs/settings.md`) and a test keeps it, and the code that reads each
setting, in step. datasette's SETTINGS is the model.

This module imports nothing else from wpmi: every layer may ask it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Setting:
    """One setting: its value is `$WPMI_<NAME>` converted to `type`, else `default`."""

    name: str
    type: type
    default: object
    help: str
    positive: bool = False  # numbers only: must be above 0

    @property
    def env_var(self) -> str:
        return f"WPMI_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    # --- where the data lives -------------------------------------------------------------------------
    Setting(
        "db_url",
        str,
        f"sqlite:///{ROOT / 'data' / 'wpmi.sqlite'}",
        "SQLAlchemy URL of the database (the CLI's --db overrides it); default: data/wpmi.sqlite.",
    ),
    Setting(
        "layouts_dir",
        str,
        "",
        "A folder of your own layout profiles (*.toml), added to the shipped ones; one with a shipped profile's "
        "name replaces it (`wpmi ingest --layouts DIR` overrides it). See docs/layouts.md.",
    ),
    # --- statistics -----------------------------------------------------------------------------------
    Setting(
        "min_denominator",
        int,
        30,
        "Units with a smaller denominator are shown greyed and 'not compared' (benchmarks, case mix, standards).",
        positive=True,
    ),
    Setting("projection_tolerance", float, 0.10, "Referrals within this share of projection count as on profile."),
    Setting(
        "standards_near",
        float,
        0.05,
        "A standard's share within this many points of its target (or below it without significant evidence) is "
        "'Near target'; 'Missed' needs both a significant shortfall and more than this.",
    ),
    # --- the dashboard --------------------------------------------------------------------------------
    Setting(
        "cache_ttl_seconds",
        int,
        600,
        "How long dashboard query results are cached (cleared after an upload).",
        positive=True,
    ),
    Setting(
        "mode", str, "member", "'member' shows everything; 'public' publishes only what official statistics cover."
    ),
    Setting(
        "local_mode_on_network",
        bool,
        False,
        "Serve local mode (no sign-in: every partner's detail, every write) on an address other than this machine's. "
        "Only behind your own access control.",
    ),
    Setting(
        "member_contact",
        str,
        "",
        "Whom a signed-in account that is not a member should ask for access (shown to them), e.g. an e-mail address.",
    ),
    Setting(
        "official_cutoff",
        date,
        date(2017, 3, 31),
        "Public mode publishes MI up to this date (the latest official release), as YYYY-MM-DD.",
    ),
    Setting(
        "rounding_base", int, 5, "Public mode rounds published counts to the nearest multiple of this.", positive=True
    ),
    Setting(
        "suppress_max",
        int,
        4,
        "Counts from 1 to this about anyone but the viewer's own organisation are hidden ('*'), in every mode.",
        positive=True,
    ),
    Setting(
        "public_rate_decimals",
        int,
        2,
        "Public mode shows rates, shares and intervals as proportions to this many places (2: whole percents).",
        positive=True,
    ),
    # --- how much of a file wpmi will read (limits that stop a broken or hostile file) -------------------
    Setting("max_file_mb", float, 100.0, "Largest file wpmi reads, as sent, in MB (CLI and Data page).", positive=True),
    Setting(
        "max_decompressed_mb",
        float,
        200.0,
        "Largest a workbook's zip package may be once unpacked, in MB (stops zip bombs).",
        positive=True,
    ),
    Setting("max_rows", int, 2_000_000, "Most rows wpmi reads in one sheet.", positive=True),
    Setting("max_columns", int, 200, "Most columns wpmi reads in one sheet.", positive=True),
    Setting(
        "max_cells",
        int,
        30_000_000,
        "Most rows x columns one sheet may span (the grid the reader allocates).",
        positive=True,
    ),
    Setting("max_cell_chars", int, 32_767, "Most characters in one cell (Excel's own cell limit).", positive=True),
    # --- the separate process that reads each untrusted file (loaders/sandbox.py) ----------------------------
    Setting(
        "parse_memory_mb",
        float,
        2048.0,
        "Most memory (address space) the process reading one file may map, in MB; a file needing more is refused.",
        positive=True,
    ),
    Setting(
        "parse_cpu_seconds",
        float,
        60.0,
        "Most CPU seconds the process reading one file may use; a file needing more is refused.",
        positive=True,
    ),
    Setting(
        "parse_wall_seconds",
        float,
        120.0,
        "Most seconds, by the clock, that reading one file may take before its process is stopped and it is refused.",
        positive=True,
    ),
    Setting(
        "parse_result_mb",
        float,
        1024.0,
        "Largest the cells read from one file may be when handed back by the reading process, in MB (pickled).",
        positive=True,
    ),
)
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


class SettingError(ValueError):
    """An environment variable holds a value its setting cannot take."""


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _convert(setting: Setting, raw: str):
    if setting.type is bool:
        return _BOOLEANS[raw.lower()]  # a KeyError for anything else: refused below like any bad value
    if setting.type is date:
        return date.fromisoformat(raw)
    if setting.type is int:
        return int(raw.replace(",", "").replace("_", ""))
    return setting.type(raw)


def get(name: str, environ: Mapping[str, str] | None = None):
    """The setting's value: `$WPMI_<NAME>` (from `environ`, default os.environ) as its type, else the default."""
    setting = BY_NAME[name]
    environ = os.environ if environ is None else environ
    raw = environ.get(setting.env_var, "").strip()
    if not raw:
        return setting.default
    kind = "a number above 0" if setting.positive else f"a valid {setting.type.__name__}"
    try:
        value = _convert(setting, raw)
    except (ValueError, KeyError):
        value = None
    if value is None or (setting.positive and not value > 0):
        raise SettingError(
            f"{setting.env_var} must be {kind} (default {_shown(setting.default)}), not {raw!r}: {setting.help}"
        )
    return value


def _shown(value: object) -> str:
    return f"{value:,}" if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def markdown() -> str:
    """docs/settings.md: every setting with its environment variable, type, default and help."""
    lines = [
        "# Settings",
        "",
        "Generated from `dashboard/settings.py` (`python -m dashboard.settings > docs/settings.md`); a test "
        "fails if this",
        "file and the table differ. Set any of them as an environment variable.",
        "",
        "| environment variable | type | default | what it does |",
        "|---|---|---|---|",
    ]
    for s in SETTINGS:
        default = "data/wpmi.sqlite (SQLite)" if s.name == "db_url" else _shown(s.default)
        lines.append(f"| `{s.env_var}` | {s.type.__name__} | {default} | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
