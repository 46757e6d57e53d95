"""The wpmi data dictionary: every sheet and column of the standard MI template.

One declared table, used by the template writer, the column detector, the validator and the docs, so the
names a partner sees, the synonyms wpmi accepts and the types it checks never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Types a field can hold; the mapper parses cells into these.
TEXT, DATE, INT, BOOL, REAL, MONTH, PAYMENT_GROUP = "text", "date", "int", "bool", "real", "month", "payment_group"


@dataclass(frozen=True)
class Field:
    """One column of a template sheet."""

    name: str
    type: str
    required: bool
    help: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sheet:
    """One sheet of the template: its table in the database and its fields."""

    name: str
    table: str
    help: str
    fields: tuple[Field, ...]
    optional: bool = True
    key: tuple[str, ...] = field(default=())
    # An aggregate's counts are required columns of the sheet as the template lays it out, but a return in
    # another layout (months across, a sheet per measure) may leave a measure out: not reported, never zero.
    measures_may_be_missing: bool = False

    @property
    def required_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def reportable_fields(self) -> list[str]:
        """The fields a file may leave out, each then stored as not reported: the optional ones, and an
        aggregate's measures (every field outside its key)."""
        return [
            f.name for f in self.fields if not f.required or (self.measures_may_be_missing and f.name not in self.key)
        ]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)


PARTICIPANTS = Sheet(
    name="Participants",
    table="participant",
    help="One row per participant journey, as at the end of the reporting period. Send every participant "
    "you hold (the latest row for a participant_ref replaces earlier ones).",
    key=("participant_ref",),
    fields=(
        Field(
            "participant_ref",
            TEXT,
            True,
            "Your pseudonymous reference for the participant. Never a name or National Insurance number.",
            (
                "client ref",
                "client reference",
                "customer id",
                "customer ref",
                "customer reference",
                "participant id",
                "participant reference",
                "claimant ref",
                "ref",
                "case id",
                "case ref",
                "unique id",
                "learner id",
                "prap id",
                "po number",
            ),
        ),
        Field(
            "payment_group",
            PAYMENT_GROUP,
            True,
            "Payment group code PG1-PG9 (names such as 'JSA 18-24' are accepted).",
            (
                "pg",
                "payment group",
                "benefit group",
                "customer group",
                "claimant group",
                "client group",
                "pg code",
                "group",
            ),
        ),
        Field(
            "referral_date",
            DATE,
            True,
            "Date Jobcentre Plus referred the participant.",
            (
                "referral dt",
                "date referred",
                "referred",
                "referral",
                "prap referral date",
                "date of referral",
                "ref date",
            ),
        ),
        Field(
            "first_contact_date",
            DATE,
            False,
            "Date of the first contact with the participant.",
            (
                "first contact",
                "first contact dt",
                "date of first contact",
                "initial contact date",
                "contact date",
                "welcome call date",
            ),
        ),
        Field(
            "attachment_date",
            DATE,
            False,
            "Date the participant attached (started) on the programme.",
            (
                "attachment",
                "attached",
                "attach date",
                "attachment dt",
                "date attached",
                "start on programme",
                "programme start date",
                "induction date",
                "wp start date",
            ),
        ),
        Field(
            "initial_assessment_date",
            DATE,
            False,
            "Date of the initial assessment.",
            ("initial assessment", "assessment date", "ia date", "diagnostic date", "triage date"),
        ),
        Field(
            "action_plan_date",
            DATE,
            False,
            "Date the first action plan was agreed.",
            ("action plan", "action plan dt", "ap date", "progression plan date", "plan date"),
        ),
        Field(
            "job_start_date",
            DATE,
            False,
            "Date the participant started a job.",
            (
                "job start",
                "job start dt",
                "date job started",
                "job entry date",
                "employment start date",
                "start date job",
                "into work date",
            ),
        ),
        Field(
            "job_outcome_date",
            DATE,
            False,
            "Date the job outcome was validated (after 13 or 26 weeks in work, by payment group).",
            ("job outcome", "job outcome dt", "outcome date", "jo date", "outcome claimed date"),
        ),
        Field(
            "exit_date",
            DATE,
            False,
            "Date the participant left the programme.",
            ("exit", "exit dt", "leave date", "leaving date", "completion date", "date left"),
        ),
        Field(
            "exit_report_requested_date",
            DATE,
            False,
            "Date Jobcentre Plus asked for an exit report.",
            ("exit report requested", "exit request date", "jcp exit request date"),
        ),
        Field(
            "exit_report_sent_date",
            DATE,
            False,
            "Date the exit report was sent to Jobcentre Plus.",
            ("exit report sent", "exit report date", "exit report submitted"),
        ),
        Field(
            "in_work_support_offered",
            BOOL,
            False,
            "Y if in-work support was offered after a job start.",
            ("in work support", "iws offered", "in-work support offered", "iws"),
        ),
    ),
    optional=False,
)

CONTACTS = Sheet(
    name="Contacts",
    table="contact",
    help="Optional: one row per contact with a participant, to measure contact-frequency standards.",
    key=("participant_ref", "contact_date", "mode"),
    fields=(
        Field(
            "participant_ref",
            TEXT,
            True,
            "The participant's pseudonymous reference.",
            ("client ref", "customer id", "participant id", "ref"),
        ),
        Field("contact_date", DATE, True, "Date of the contact.", ("date", "contact dt", "date of contact")),
        Field(
            "mode",
            TEXT,
            False,
            "face to face, phone, email, text, letter or other.",
            ("contact mode", "contact type", "method", "channel"),
        ),
    ),
)

MONTHLY = Sheet(
    name="Monthly",
    table="monthly_return",
    help="Aggregate counts for partners who cannot send participant rows. One row per month and payment group. "
    "Leave empty if you send the Participants sheet.",
    key=("month", "payment_group"),
    measures_may_be_missing=True,
    fields=(
        Field(
            "month",
            MONTH,
            True,
            "The calendar month (any date in it; the first is conventional).",
            ("period", "reporting month", "month ending"),
        ),
        Field(
            "payment_group",
            PAYMENT_GROUP,
            True,
            "Payment group code PG1-PG9.",
            ("pg", "payment group", "benefit group", "customer group"),
        ),
        Field("referrals", INT, True, "Referrals received in the month.", ("referrals received", "refs")),
        Field("attachments", INT, True, "Participants attached in the month.", ("attached", "starts on programme")),
        Field("job_starts", INT, True, "Job starts in the month.", ("job entries", "jobs", "job start")),
        Field("job_outcomes", INT, True, "Job outcomes validated in the month.", ("outcomes", "job outcome")),
    ),
)

PROJECTIONS = Sheet(
    name="Projections",
    table="projection",
    help="The referral volumes your prime projected for you, per month and payment group.",
    key=("month", "payment_group"),
    fields=(
        Field("month", MONTH, True, "The calendar month.", ("period",)),
        Field("payment_group", PAYMENT_GROUP, True, "Payment group code PG1-PG9.", ("pg", "payment group")),
        Field(
            "projected_referrals",
            INT,
            True,
            "Referrals projected for the month.",
            ("projection", "projected", "forecast referrals", "expected referrals"),
        ),
    ),
)

FEEDBACK = Sheet(
    name="Feedback",
    table="feedback",
    help="Complaints and customer satisfaction per month.",
    key=("month",),
    fields=(
        Field("month", MONTH, True, "The calendar month.", ("period",)),
        Field("complaints_received", INT, True, "Complaints received in the month.", ("complaints",)),
        Field(
            "complaints_resolved_in_time",
            INT,
            False,
            "Of those, resolved within your prime's time limit.",
            ("resolved in time",),
        ),
        Field(
            "satisfaction_responses",
            INT,
            False,
            "Number of satisfaction survey responses.",
            ("survey responses", "responses"),
        ),
        Field(
            "satisfaction_mean",
            REAL,
            False,
            "Mean satisfaction score, 1 (poor) to 5 (excellent).",
            ("satisfaction", "mean score", "average satisfaction"),
        ),
    ),
)

SHEETS: tuple[Sheet, ...] = (PARTICIPANTS, CONTACTS, MONTHLY, PROJECTIONS, FEEDBACK)
SHEETS_BY_NAME = {s.name: s for s in SHEETS}

# The header block on the template's Instructions sheet: label in column A, value in column B, in the rows
# after the title. Readers look for the labels, not fixed rows, so partners may insert rows above it.
INSTRUCTIONS_SHEET = "Instructions"
HEADER_BLOCK = (
    ("Partner", "partner", "Your organisation's name as registered with wpmi."),
    ("Prime", "prime", "The prime contractor you report to (e.g. Ingeus, A4e)."),
    ("CPA", "cpa", "Contract Package Area number, 1-18."),
    ("Reporting period", "period", "The month this return covers (e.g. 2013-03)."),
)
TEMPLATE_MARKER = "wpmi standard MI template"  # the Instructions sheet's A1 starts with this

JOURNEY_MILESTONES = tuple(f.name for f in PARTICIPANTS.fields if f.type == DATE)


def optional_fields() -> list[str]:
    """The fields a file may leave out (not reported, never zero; `Sheet.reportable_fields`), of every sheet: what
    --require and a layout profile's `require` may name."""
    return sorted({name for sheet in SHEETS for name in sheet.reportable_fields})


# --- what a submission does not report (submission.not_reported) ------------------------------------------
# A file without a column for an optional field says nothing about it: unknown, never zero. The submission
# records which fields, as "Sheet.field" names, so the summaries can keep its rows out of that measure.
def not_reported_text(missing: dict[str, list[str]]) -> str | None:
    """The stored form of `{sheet name: [field, ...]}`: "Participants.job_outcome_date,..." (None if empty)."""
    names = sorted(f"{sheet}.{field}" for sheet, fields in missing.items() for field in fields)
    return ",".join(names) or None


def parse_not_reported(text: str | None) -> dict[str, set[str]]:
    """`{sheet name: {field, ...}}` from the stored form (`not_reported_text`)."""
    missing: dict[str, set[str]] = {}
    for name in (text or "").split(","):
        if name:
            sheet, _, field = name.partition(".")
            missing.setdefault(sheet, set()).add(field)
    return missing


# Cells that mean "suppressed by the sender" (a count between 1 and 4) or "nothing to report".
# In count columns a suppressed cell is stored as unknown (NULL) and flagged; elsewhere it reads as empty.
SUPPRESSION_MARKERS = frozenset({"*", "<5", "< 5", "-", "c", "[c]", "x", ".."})
EMPTY_MARKERS = frozenset({"", "--", "n/a", "na", "null", "none"})
