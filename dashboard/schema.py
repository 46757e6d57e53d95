"""The database schema: reference tables, submissions with their facts, and the analysts' SQL views.

Facts keep their submission id and spreadsheet row, so every figure traces back to a cell. Months are stored
as first-of-month dates computed at ingest, so the views need no dialect-specific date functions and run
unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from dashboard import cohorts
from dashboard import fields as F

metadata = MetaData()

# --- reference data (from data/reference/, each row with its source) ------------------------------------
cpa = Table(
    "cpa",
    metadata,
    Column("cpa_code", Integer, primary_key=True, autoincrement=False),
    Column("cpa_name", Text, nullable=False),
    Column("nation", String(16), nullable=False),
    Column("name_status", String(32)),
    Column("source", Text, nullable=False),
)
prime = Table(
    "prime",
    metadata,
    Column("prime_id", String(40), primary_key=True),
    Column("prime_name", Text, nullable=False),
    Column("aliases", Text),
    Column("source", Text, nullable=False),
)
contract = Table(
    "contract",
    metadata,
    Column("contract_id", String(60), primary_key=True),
    Column("prime_id", String(40), ForeignKey("prime.prime_id"), nullable=False),
    Column("cpa_code", Integer, ForeignKey("cpa.cpa_code"), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("end_reason", Text),
    Column("source", Text, nullable=False),
)
payment_group = Table(
    "payment_group",
    metadata,
    Column("code", String(8), primary_key=True),
    Column("name", Text, nullable=False),
    Column("short_name", Text, nullable=False),
    Column("benefit", String(16)),
    Column("outcome_weeks", Integer, nullable=False),
    Column("outcome_period_status", String(16)),
    Column("england_only", Boolean),
    Column("source", Text, nullable=False),
)
minimum_performance_level = Table(
    "minimum_performance_level",
    metadata,
    Column("contract_year", Integer, primary_key=True, autoincrement=False),
    Column("payment_group", String(8), primary_key=True),
    Column("year_start", Date, nullable=False),
    Column("year_end", Date, nullable=False),
    Column("mpl", Float),
    Column("actual_note", Text),
    Column("measure", Text),
    Column("source", Text, nullable=False),
)
standard = Table(
    "standard",
    metadata,
    Column("standard_id", String(40), primary_key=True),
    Column("prime_id", String(40), ForeignKey("prime.prime_id"), nullable=False),
    Column("cpa_scope", Text, nullable=False),
    Column("stage", String(32), nullable=False),
    Column("title", Text, nullable=False),
    Column("quote", Text),
    Column("rule_kind", String(24), nullable=False),
    Column("from_milestone", String(40)),
    Column("to_milestone", String(40)),
    Column("limit_days", Integer),
    Column("day_basis", String(16)),
    Column("target_share", Float),
    Column("frequency_days", Integer),
    Column("payment_groups", Text),
    Column("measurable_note", Text),
    Column("source", Text, nullable=False),
)
# A partner's sector and tier: code -> what a reader sees. UNKNOWN is a partner registered without them.
UNKNOWN = "unknown"
SECTOR_LABELS = {"private": "Private", "public": "Public", "vcs": "Voluntary and community (VCS)", UNKNOWN: "Unknown"}
TIER_LABELS = {"end_to_end": "End-to-end (tier 1)", "specialist": "Specialist (tier 2)", UNKNOWN: "Unknown"}
SECTORS, TIERS = tuple(SECTOR_LABELS), tuple(TIER_LABELS)
partner = Table(
    "partner",
    metadata,
    Column("partner_id", Integer, primary_key=True),
    Column("partner_name", Text, nullable=False, unique=True),
    Column("sector", String(16), nullable=False, default=UNKNOWN),  # one of SECTORS
    Column("tier", String(16), nullable=False, default=UNKNOWN),  # one of TIERS
    Column("registered_at", DateTime, nullable=False),
    Column("source", Text, nullable=False),
)

# --- the member registry (dashboard/members.py; roles decided in dashboard/access.py) -------------------
PARTNER_ROLE, PRIME_ROLE, ANALYST, ADMIN = "partner", "prime", "analyst", "admin"
ROLE_LABELS = {
    PARTNER_ROLE: "Partner user (its own partners' detail and uploads)",
    PRIME_ROLE: "Prime user (its contracts and their supply-chain partners)",
    ANALYST: "Analyst (member aggregates, no participant-level detail)",
    ADMIN: "Administrator (everything, and the registry)",
}
ROLES = tuple(ROLE_LABELS)
member = Table(
    "member",
    metadata,
    Column("member_id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),  # lower case; a verified sign-in e-mail
    Column("role", String(16), nullable=False),  # one of ROLES, the same on every row of one e-mail
    Column("partner_id", Integer, ForeignKey("partner.partner_id")),  # partner users: one row per partner
    Column("prime_id", String(40), ForeignKey("prime.prime_id")),  # prime users: one row per prime
    Column("added_at", DateTime, nullable=False),
    Column("added_by", Text, nullable=False),
)

# --- submissions and facts ----------------------------------------------------------------------------
submission = Table(
    "submission",
    metadata,
    Column("submission_id", Integer, primary_key=True),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    # How the file was read (loaders.pipeline.reading_of): the same bytes read another way are another load.
    Column("reading", String(64)),
    Column("partner_id", Integer, ForeignKey("partner.partner_id"), nullable=False),
    Column("contract_id", String(60), ForeignKey("contract.contract_id"), nullable=False),
    Column("period", Date, nullable=False),  # first day of the reporting month
    Column("layout", String(60), nullable=False),
    Column("content", Text, nullable=False),  # the sheets it holds rows for, e.g. "Feedback,Participants"
    Column("status", String(16), nullable=False, default="current"),  # current | superseded | withdrawn
    Column("superseded_by", Integer),
    Column("rows_participants", Integer, nullable=False, default=0),
    Column("rows_contacts", Integer, nullable=False, default=0),
    Column("rows_monthly", Integer, nullable=False, default=0),
    Column("rows_projections", Integer, nullable=False, default=0),
    Column("rows_feedback", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Column("report_json", Text),  # warnings and notes; never cell values flagged as personal data
    # The optional fields this file has no column for, "Sheet.field" comma-separated (NULL: it reports them
    # all): unknown, never zero, in every summary and rate (dashboard/summaries.py, dashboard/queries.py).
    Column("not_reported", Text),
    Column("loaded_at", DateTime, nullable=False),
    Column("loaded_by", Text),
    Index("ix_submission_key", "partner_id", "contract_id", "period"),
    UniqueConstraint("sha256", "reading", name="uq_submission_reading"),
)

# How each data-dictionary type is stored. The fact tables' columns below are generated from their template
# sheets' fields (dashboard/fields.py, their one home): a field added there is a column here.
FIELD_TYPES: dict[str, type[TypeEngine] | TypeEngine] = {
    F.TEXT: String(64),
    F.PAYMENT_GROUP: String(8),
    F.DATE: Date,
    F.MONTH: Date,
    F.BOOL: Boolean,
    F.INT: Integer,
    F.REAL: Float,
}


def field_columns(
    sheet: F.Sheet, *, not_null: tuple[str, ...], skip: tuple[str, ...] = (), types: dict[str, TypeEngine] | None = None
) -> list[Column]:
    """One column per field of `sheet` (but `skip`), in the sheet's order, typed by FIELD_TYPES (or `types`).

    `not_null` names the columns declared NOT NULL. It is not derived from `Field.required`: a required field
    is enforced by the validator (a row missing it is rejected), and the stored tables declare only the
    identifying columns NOT NULL (referral_date is required but its column has always been nullable).
    """
    types = types or {}
    unknown = (set(not_null) | set(types)) - {f.name for f in sheet.fields}
    if unknown:
        raise ValueError(f"Sheet {sheet.name} has no fields {sorted(unknown)}.")
    return [
        Column(f.name, types.get(f.name, FIELD_TYPES[f.type]), nullable=f.name not in not_null)
        for f in sheet.fields
        if f.name not in skip
    ]


def fact_table(
    sheet: F.Sheet, *extra, not_null: tuple[str, ...], types: dict[str, TypeEngine] | None = None, index: str
) -> Table:
    """A fact table for one template sheet: where each row came from, the sheet's fields, then `extra`."""
    return Table(
        sheet.table,
        metadata,
        Column("submission_id", Integer, ForeignKey("submission.submission_id"), nullable=False),
        Column("source_row", Integer, nullable=False),
        *field_columns(sheet, not_null=not_null, types=types),
        *extra,
        Index(index, "submission_id"),
    )


PARTICIPANT_NOT_NULL = ("participant_ref", "payment_group")
# Months of the four flow milestones, computed at ingest (see module docstring).
MONTH_COLUMNS = {
    "referral_date": "referral_month",
    "attachment_date": "attachment_month",
    "job_start_date": "job_start_month",
    "job_outcome_date": "job_outcome_month",
}

# The fact tables: one per template sheet, its columns generated from the sheet's fields.
participant = fact_table(
    F.PARTICIPANTS,
    *[Column(name, Date) for name in MONTH_COLUMNS.values()],
    Column("days_to_job_start", Integer),  # from referral; lets cohort rates be summed without date functions
    Column("days_to_job_outcome", Integer),
    Column("flags", Text),  # codes of warnings raised on this row, comma-separated
    Index("ix_participant_ref", "participant_ref"),
    not_null=PARTICIPANT_NOT_NULL,
    index="ix_participant_submission",
)
contact = fact_table(
    F.CONTACTS, not_null=("participant_ref", "contact_date"), types={"mode": String(32)}, index="ix_contact_submission"
)
monthly_return = fact_table(
    F.MONTHLY,
    Column("suppressed", Boolean, nullable=False, default=False),  # a count was sent as *, <5 or -
    not_null=("month", "payment_group"),
    index="ix_monthly_submission",
)
projection = fact_table(F.PROJECTIONS, not_null=("month", "payment_group"), index="ix_projection_submission")
feedback = fact_table(F.FEEDBACK, not_null=("month",), index="ix_feedback_submission")


# --- summaries maintained at ingest (so pages never scan participant rows) -------------------------------
def _summary(name: str, grain: tuple[str, ...], *columns: Column) -> Table:
    """A summary table keyed, like every summary, by partner and contract (rebuilt per pair at ingest), then by
    its `grain` columns.

    The key is the primary key and, on SQLite, the table is stored in key order (WITHOUT ROWID): a query that
    groups by partner, contract and month then reads the rows already grouped instead of sorting them, which
    halves the slowest unfiltered page queries at programme scale.
    """
    return Table(
        name,
        metadata,
        Column("partner_id", Integer, nullable=False),
        Column("contract_id", String(60), nullable=False),
        *columns,
        PrimaryKeyConstraint("partner_id", "contract_id", *grain, name=f"pk_{name}"),
        sqlite_with_rowid=False,
    )


monthly_summary = _summary(
    "monthly_summary",
    ("month", "payment_group"),
    Column("month", Date, nullable=False),
    Column("payment_group", String(8), nullable=False),
    Column("referrals", Integer),
    Column("attachments", Integer),
    Column("job_starts", Integer),
    Column("job_outcomes", Integer),
    Column("basis", String(16), nullable=False),
)
cohort_summary = _summary(
    "cohort_summary",
    ("referral_month", "payment_group"),
    Column("referral_month", Date, nullable=False),
    Column("payment_group", String(8), nullable=False),
    Column("referrals", Integer, nullable=False),
    # NULL where a cell holds anyone whose return does not report the measure (submission.not_reported).
    *[
        Column(name, Integer)
        for name in (
            "attachments",
            *(
                f"{measure}_{cohorts.window_suffix(months)}"
                for months in cohorts.WINDOW_DAYS
                for measure in ("job_starts", "job_outcomes")
            ),
            "job_starts",
            "job_outcomes",
        )
    ],
)
projection_summary = _summary(
    "projection_summary",
    ("month", "payment_group"),
    Column("month", Date, nullable=False),
    Column("payment_group", String(8), nullable=False),
    Column("projected_referrals", Integer),
)
compliance_summary = _summary(
    "compliance_summary",
    ("standard_id",),
    Column("standard_id", String(40), nullable=False),
    Column("as_of", Date, nullable=False),  # end of the latest reporting period evaluated
    *[Column(name, Integer, nullable=False) for name in ("met", "missed", "pending", "not_applicable")],
)
# The drill-down behind one compliance cell: how many participants took how many days (the measured interval,
# any outcome), and who missed (pseudonymous references, shown only to the partner's own users).
compliance_days = _summary(
    "compliance_days",
    ("standard_id", "days"),
    Column("standard_id", String(40), nullable=False),
    Column("days", Integer, nullable=False),
    Column("participants", Integer, nullable=False),
)
compliance_missed = _summary(
    "compliance_missed",
    ("standard_id", "participant_ref"),
    Column("standard_id", String(40), nullable=False),
    Column("participant_ref", String(64), nullable=False),
    Column("payment_group", String(8)),
    Column("days", Integer),  # None when the milestone was never reached
)

# The latest row of each participant, kept for partner contracts with two or more current participant returns
# (dashboard/latest.py), and which current submissions it reflects.
participant_current = Table(
    "participant_current",
    metadata,
    Column("partner_id", Integer, nullable=False),
    Column("contract_id", String(60), nullable=False),
    Column("participant_ref", String(64), nullable=False),
    Column("period", Date, nullable=False),
    Column("submission_id", Integer, nullable=False),
    Column("source_row", Integer, nullable=False),
    # The participant's fields but its reference, which is part of the key (above).
    *field_columns(F.PARTICIPANTS, not_null=PARTICIPANT_NOT_NULL, skip=("participant_ref",)),
    PrimaryKeyConstraint("partner_id", "contract_id", "participant_ref", name="pk_participant_current"),
    sqlite_with_rowid=False,
)
participant_current_state = Table(
    "participant_current_state",
    metadata,
    Column("partner_id", Integer, nullable=False),
    Column("contract_id", String(60), nullable=False),
    Column("submission_ids", Text, nullable=False),  # the current participant submissions reflected, ascending
    PrimaryKeyConstraint("partner_id", "contract_id", name="pk_participant_current_state"),
)

# --- bookkeeping ---------------------------------------------------------------------------------------
audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", Integer, primary_key=True),
    Column("at", DateTime, nullable=False),
    Column("action", String(24), nullable=False),  # submitted | rejected | superseded | withdrawn | registered
    Column("submission_id", Integer),
    Column("file_name", Text),
    Column("sha256", String(64)),
    Column("actor", Text),
    Column("detail", Text),
)
meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text),
    UniqueConstraint("key", name="uq_meta_key"),
)

FACT_TABLES = {
    "Participants": participant,
    "Contacts": contact,
    "Monthly": monthly_return,
    "Projections": projection,
    "Feedback": feedback,
}
REFERENCE_TABLES = (cpa, prime, contract, payment_group, minimum_performance_level, standard)
