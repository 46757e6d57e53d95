"""Files built to kill the reader are read in the limited worker process: they are rejected, the rest lands.

The 2 KB shared-strings file below aborted the whole process before Python could catch anything (calamine
reserving 96 GB); the .ods of repeated cells took it past 2 GB. Both are sent here in one batch with a good
file, through the real CLI in a separate process and through the Data page, and the process must carry on.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from loaders import sandbox
from loaders.demo import writers
from loaders.errors import UnreadableFile
from loaders.limits import Limits
from loaders.readers import Workbook
from tests.conftest import HEADER, ROOT, participants
from tests.hostile import ods_repeat_bomb, shared_strings_bomb


def submissions(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT file_name, status FROM submission ORDER BY file_name")).all()


def audited_rejections(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT file_name FROM audit_log WHERE action = 'rejected'")).scalars().all()


def test_cli_batch_survives_files_that_kill_the_reader_and_loads_the_good_one(tmp_path, db_url, engine):
    good = writers.write_standard(tmp_path / "good.xlsx", HEADER, participants(3))
    strings = shared_strings_bomb(tmp_path / "strings.xlsx")
    cells = ods_repeat_bomb(tmp_path / "cells.ods")
    assert strings.stat().st_size < 3000 and cells.stat().st_size < 1000
    proc = subprocess.run(
        [sys.executable, "-m", "loaders.cli", "ingest", str(strings), str(cells), str(good), "--db", db_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "WPMI_PARSE_MEMORY_MB": "512", "COLUMNS": "1000"},  # wide: messages are not wrapped
        check=False,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # 1: some file was rejected; not 134 (aborted)
    assert submissions(engine) == [("good.xlsx", "current")]
    assert sorted(audited_rejections(engine)) == ["cells.ods", "strings.xlsx"]
    assert "could not be read safely" in proc.stdout + proc.stderr
    assert "declares 4,000,000,000 shared strings" in proc.stdout + proc.stderr


def test_data_page_upload_of_a_file_that_kills_the_reader_is_an_error_box_and_the_good_file_lands(
    tmp_path, db_url, engine, monkeypatch
):
    monkeypatch.setenv("WPMI_DB_URL", db_url)
    monkeypatch.setenv("WPMI_PARSE_MEMORY_MB", "512")
    good = writers.write_standard(tmp_path / "good.xlsx", HEADER, participants(3)).read_bytes()
    strings = shared_strings_bomb(tmp_path / "strings.xlsx").read_bytes()
    cells = ods_repeat_bomb(tmp_path / "cells.ods").read_bytes()
    at = AppTest.from_file(str(ROOT / "pages" / "data.py"), default_timeout=120).run()
    uploader = at.file_uploader(key="uploads")
    uploader.upload("strings.xlsx", strings, "application/octet-stream")
    uploader.upload("cells.ods", cells, "application/octet-stream")
    uploader.upload("good.xlsx", good, "application/octet-stream")
    at.run()
    at.button(key="up_go").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "strings.xlsx" in errors and "cells.ods" in errors
    report = " ".join(str(df.value.to_csv()) for df in at.dataframe)
    assert "declares 4,000,000,000 shared strings" in report and "could not be read safely" in report
    assert any("good.xlsx" in s.value and "loaded" in s.value for s in at.success)
    assert submissions(engine) == [("good.xlsx", "current")]


def test_a_killed_worker_is_replaced_for_the_next_file(tmp_path):
    limits = Limits(parse_memory_mb=512)
    with pytest.raises(UnreadableFile, match="could not be read safely: the reader stopped"):
        sandbox.read_untrusted(ods_repeat_bomb(tmp_path / "cells.ods"), limits=limits)
    book = sandbox.read_untrusted(writers.write_standard(tmp_path / "good.xlsx", HEADER, participants(2)))
    assert isinstance(book, Workbook) and book.name == "good.xlsx"
    assert any(sheet.name == "Participants" for sheet in book.sheets)


def test_the_workers_reply_can_build_nothing_but_workbook_values():
    class Payload:
        def __reduce__(self):
            return (print, ("the reply ran code in the parent",))

    with pytest.raises(sandbox._Refused, match="builtins.print"):
        sandbox._loads(pickle.dumps(("ok", Payload(), 0)))


def test_an_upload_over_the_size_limit_is_refused_before_the_worker_sees_it(tmp_path):
    with pytest.raises(UnreadableFile, match="more than the 0.001 MB wpmi accepts"):
        sandbox.read_untrusted(tmp_path / "big.csv", data=b"x" * 2000, limits=Limits(max_file_mb=0.001))


def test_a_file_that_grows_after_its_size_was_checked_is_read_only_up_to_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "growing.csv"
    path.write_bytes(b"participant_ref\n" + b"P0001\n" * 10)
    limits = Limits(max_file_mb=0.0001)  # 104 bytes: the file is 76 when checked, then grows
    real_fdopen = sandbox.os.fdopen

    def fdopen_after_growth(fd, *args, **kwargs):
        with path.open("ab") as f:
            f.write(b"P0002\n" * 100_000)
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(sandbox.os, "fdopen", fdopen_after_growth)
    with pytest.raises(UnreadableFile, match="more than the 0.0001 MB"):
        sandbox.read_untrusted_bytes(path, limits)
