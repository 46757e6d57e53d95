"""How much of a file wpmi will read: limits that stop a broken or hostile file exhausting memory or time.

Each limit has a default and an environment variable that overrides it. The readers call `Limits.from_env()`
for every file, so a deployment (or a test, with monkeypatch.setenv) changes them without code changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

# (field, environment variable, default, what it bounds): one table, as dashboard settings are declared.
SETTINGS = (
    ("max_file_mb", "WPMI_MAX_FILE_MB", 100, "size of the file as sent, in MB"),
    ("max_decompressed_mb", "WPMI_MAX_DECOMPRESSED_MB", 200, "size of a workbook's zip package once unpacked, in MB"),
    ("max_rows", "WPMI_MAX_ROWS", 2_000_000, "rows in one sheet"),
    ("max_columns", "WPMI_MAX_COLUMNS", 200, "columns in one sheet"),
    ("max_cells", "WPMI_MAX_CELLS", 30_000_000, "rows x columns of one sheet (the grid the reader allocates)"),
    ("max_cell_chars", "WPMI_MAX_CELL_CHARS", 32_767, "characters in one cell (Excel's own cell limit)"),
)
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The limits one read runs under; see SETTINGS for their environment variables."""

    max_file_mb: float = 100
    max_decompressed_mb: float = 200
    max_rows: int = 2_000_000
    max_columns: int = 200
    max_cells: int = 30_000_000
    max_cell_chars: int = 32_767

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """The defaults, overridden by any WPMI_MAX_* environment variable that is set."""
        environ = os.environ if environ is None else environ
        types = {f.name: f.type for f in fields(cls)}
        values = {}
        for name, variable, default, _ in SETTINGS:
            raw = environ.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = float(raw) if types[name] == "float" else int(raw)
            except ValueError:
                value = 0
            if value <= 0:
                raise ValueError(f"{variable} must be a number above 0 (default {default:,}), not {raw!r}.")
            values[name] = value
        return cls(**values)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def max_decompressed_bytes(self) -> int:
        return int(self.max_decompressed_mb * MB)
