"""How much of a file wpmi will read: limits that stop a broken or hostile file exhausting memory or time.

The limits are settings (`dashboard/settings.py`, environment variables `WPMI_MAX_*`), declared there once with
their defaults and help. The readers call `Limits.from_env()` for every file, so a deployment (or a test, with
monkeypatch.setenv) changes them without code changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from dashboard import settings

MB = 1024 * 1024


def _default(name: str):
    return settings.BY_NAME[name].default


@dataclass(frozen=True)
class Limits:
    """The limits one read runs under; each field is the setting of the same name."""

    max_file_mb: float = _default("max_file_mb")
    max_decompressed_mb: float = _default("max_decompressed_mb")
    max_rows: int = _default("max_rows")
    max_columns: int = _default("max_columns")
    max_cells: int = _default("max_cells")
    max_cell_chars: int = _default("max_cell_chars")
    parse_memory_mb: float = _default("parse_memory_mb")
    parse_cpu_seconds: float = _default("parse_cpu_seconds")
    parse_wall_seconds: float = _default("parse_wall_seconds")
    parse_result_mb: float = _default("parse_result_mb")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The settings as they stand (a bad WPMI_MAX_* value raises settings.SettingError, a ValueError)."""
        return cls(**{f.name: settings.get(f.name, environ) for f in fields(cls)})

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def max_decompressed_bytes(self) -> int:
        return int(self.max_decompressed_mb * MB)

    @property
    def parse_memory_bytes(self) -> int:
        return int(self.parse_memory_mb * MB)

    @property
    def parse_result_bytes(self) -> int:
        return int(self.parse_result_mb * MB)
