"""Every tunable number and switch in one declared table, with its default and one line of help.

Values come from the environment (`WPMI_<NAME>` in upper case) when set, else the default. Pages and
modules read them through `get`, never from scattered literals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str


SETTINGS = (
    Setting("min_denominator", 30, "Units with a smaller denominator are shown greyed and 'not compared'."),
    Setting("projection_tolerance", 0.10, "Referrals within this share of projection count as on profile."),
    Setting("cache_ttl_seconds", 600, "How long dashboard query results are cached (cleared after an upload)."),
    Setting("mode", "member", "'member' shows everything; 'public' publishes only what official statistics cover."),
    Setting("official_cutoff", "2017-03-31", "Public mode publishes MI up to this date (the latest official release)."),
    Setting("rounding_base", 5, "Public mode rounds published counts to the nearest multiple of this."),
    Setting("max_upload_mb", 50, "Largest file the Data page accepts."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str):
    """The setting's value: $WPMI_<NAME> converted to the default's type, else the default."""
    setting = _BY_NAME[name]
    raw = os.environ.get(f"WPMI_{name.upper()}")
    if raw is None:
        return setting.default
    kind = type(setting.default)
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"WPMI_{name.upper()}={raw!r} is not a valid {kind.__name__}: {setting.help}") from exc


def official_cutoff() -> date:
    return date.fromisoformat(get("official_cutoff"))
