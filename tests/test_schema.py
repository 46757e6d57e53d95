"""The participant tables' columns come from the data dictionary (dashboard/fields.py), their one home."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from dashboard import fields as F
from dashboard import schema
from dashboard.fields import DATE, Field, Sheet
from dashboard.schema import field_columns

FIELD_NAMES = [f.name for f in F.PARTICIPANTS.fields]


def described(table, dialect) -> list[tuple[str, str, bool]]:
    """(name, type as the dialect writes it in CREATE TABLE, nullable) of every column, in order."""
    return [(c.name, c.type.compile(dialect=dialect), c.nullable) for c in table.columns]


def test_participant_table_is_its_system_columns_around_the_participants_fields_in_order():
    names = [c.name for c in schema.participant.columns]
    assert names == [
        "submission_id",
        "source_row",
        *FIELD_NAMES,
        "referral_month",
        "attachment_month",
        "job_start_month",
        "job_outcome_month",
        "days_to_job_start",
        "days_to_job_outcome",
        "flags",
    ]


def test_participant_current_holds_every_participants_field():
    names = [c.name for c in schema.participant_current.columns]
    assert names == [
        "partner_id",
        "contract_id",
        "participant_ref",
        "period",
        "submission_id",
        "source_row",
        *[n for n in FIELD_NAMES if n != "participant_ref"],
    ]


# The stored participant columns, as the schema declared them by hand before they were generated: the DDL
# must not change (existing databases are not migrated). SQLite and PostgreSQL write these types alike.
PARTICIPANT_COLUMNS = [
    ("participant_ref", "VARCHAR(64)", False),
    ("payment_group", "VARCHAR(8)", False),
    *[
        (n, "DATE", True)
        for n in (
            "referral_date",
            "first_contact_date",
            "attachment_date",
            "initial_assessment_date",
            "action_plan_date",
            "job_start_date",
            "job_outcome_date",
            "exit_date",
            "exit_report_requested_date",
            "exit_report_sent_date",
        )
    ],
    ("in_work_support_offered", "BOOLEAN", True),
]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_generated_participant_columns_keep_the_hand_written_ddl(dialect):
    expected = PARTICIPANT_COLUMNS
    assert described(schema.participant, dialect)[2 : 2 + len(expected)] == expected
    current = [c for c in expected if c[0] != "participant_ref"]
    assert described(schema.participant_current, dialect)[6:] == current
    assert ("participant_ref", "VARCHAR(64)", False) in described(schema.participant_current, dialect)


def test_the_month_columns_are_of_journey_dates_declared_in_the_fields():
    assert tuple(f.name for f in F.PARTICIPANTS.fields if f.type == DATE) == F.JOURNEY_MILESTONES
    assert set(schema.MONTH_COLUMNS) <= set(F.JOURNEY_MILESTONES)


def test_a_field_added_to_the_dictionary_becomes_a_typed_column():
    sheet = Sheet(
        "S",
        "s",
        "",
        (
            Field("a", F.TEXT, True, ""),
            Field("b", F.DATE, False, ""),
            Field("c", F.INT, False, ""),
            Field("d", F.REAL, False, ""),
        ),
    )
    columns = field_columns(sheet, not_null=("a",), skip=("c",))
    assert [(c.name, c.type.compile(dialect=sqlite.dialect()), c.nullable) for c in columns] == [
        ("a", "VARCHAR(64)", False),
        ("b", "DATE", True),
        ("d", "FLOAT", True),
    ]


def test_every_field_type_has_a_column_type():
    types = {f.type for sheet in F.SHEETS for f in sheet.fields}
    assert types <= set(schema.FIELD_TYPES)


def test_not_null_must_name_fields_of_the_sheet():
    with pytest.raises(ValueError, match="no fields"):
        field_columns(F.PARTICIPANTS, not_null=("participant_id",))
