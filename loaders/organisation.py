"""Who sent a file and for which contract and month: from its header block or title, else from CLI options.

Names are matched after normalising case and punctuation, against prime aliases and registered partners. An
unknown partner is rejected with the nearest registered names unless registration was asked for, so a typo
never creates a silent duplicate organisation.

Names someone typed (CLI options, the Data page) are checked for personal data before any message quotes them
and before a partner is registered: a name that looks like a NI number, an email address, a phone number or a
postcode is refused with PersonalDataRefused, whose message names the field and never the value.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from dashboard import fields as F
from dashboard import schema
from loaders.cleaning import normalise_label, parse_month
from loaders.errors import PersonalDataRefused, UnknownOrganisation
from loaders.identifiers import kind_of
from loaders.layouts import LayoutProfile, MappedSheet
from loaders.readers import Workbook
from loaders.template import is_header_help, read_header_block

META_KEYS = ("partner", "prime", "cpa", "period")
META_SCAN_ROWS = 12
# Generic header-block patterns, tried after a profile's own.
DEFAULT_META = (
    r"^(?:partner|provider|subcontractor|organisation|organization|delivery partner)\s*[:\-]\s*(?P<partner>.+)$",
    r"^prime(?: contractor)?\s*[:\-]\s*(?P<prime>.+)$",
    r"^(?:cpa|contract package area)\s*[:\-]?\s*(?P<cpa>\d{1,2})\b",
    r"^(?:reporting period|period|month|reporting month)\s*[:\-]\s*(?P<period>.+)$",
)
LABELS = {
    "partner": {"partner", "provider", "subcontractor", "organisation", "delivery partner"},
    "prime": {"prime", "prime contractor"},
    "cpa": {"cpa", "contract package area"},
    "period": {"period", "reporting period", "month", "reporting month"},
}


@dataclass
class Sender:
    """The resolved organisation, contract and period of one file."""

    partner_id: int | None
    partner_name: str
    prime_id: str
    contract_id: str
    cpa_code: int
    period: date
    register: bool = False  # the partner is new and will be registered with the submission


def read_header_meta(book: Workbook, profile: LayoutProfile | None, mapped: list[MappedSheet]) -> dict:
    """partner/prime/cpa/period as written in the file (raw text), where present.

    The template's own header help (loaders.template.is_header_help) is never read as a value: a header block
    left as downloaded states nothing, so the CLI options or the Data page's fields are used.
    """
    found: dict = {}
    if profile is not None and profile.template:
        instructions = book.sheet(F.INSTRUCTIONS_SHEET)
        if instructions:
            found.update({k: v for k, v in read_header_block(instructions.rows).items() if v not in (None, "")})
    patterns = [re.compile(p, re.IGNORECASE) for p in (*(profile.meta if profile else ()), *DEFAULT_META)]
    # A mapped sheet's header row and data are never header-block text: only the rows above its header are
    # scanned (a three-column header such as Projections' "month | payment_group | ..." is not "period: ...").
    above_header = {m.sheet: m.header_row - 1 for m in mapped}
    sheet_names = [m.sheet for m in mapped] + [s.name for s in book.sheets]
    for name in dict.fromkeys(sheet_names):
        sheet = book.sheet(name)
        for row in sheet.rows[: min(META_SCAN_ROWS, above_header.get(name, META_SCAN_ROWS))] if sheet else ():
            # The template's help beside an untouched header field is not a value: dropped before pairing, so it
            # never stands in for a blank input cell and the options (--prime, the Data page's fields) apply.
            cells = [v for v in row if v not in (None, "") and not is_header_help(v)]
            for c, value in enumerate(cells):
                if not isinstance(value, str):
                    continue
                text = value.strip()
                for pattern in patterns:
                    match = pattern.match(text)
                    if match:
                        for key, v in match.groupdict().items():
                            if v and key not in found:
                                found[key] = v.strip()
                # "Partner | Name" pairs: only in short rows, so a column header row ("month", ...) never counts.
                label = normalise_label(text)
                for key, labels in LABELS.items():
                    if label in labels and key not in found and c + 1 < len(cells) and len(cells) <= 3:
                        found[key] = cells[c + 1]
    return found


class Registry:
    """Primes, contracts and partners known to the database, for resolving names."""

    def __init__(self, conn: Connection):
        self.primes = {r.prime_id: r for r in conn.execute(select(schema.prime))}
        self.contracts = {(r.prime_id, r.cpa_code): r for r in conn.execute(select(schema.contract))}
        self.partners = {normalise_label(r.partner_name): r for r in conn.execute(select(schema.partner))}
        self._prime_names: dict[str, str] = {}
        for p in self.primes.values():
            for label in (p.prime_id, p.prime_name, *(p.aliases or "").split(";")):
                if label.strip():
                    self._prime_names[normalise_label(label)] = p.prime_id

    def resolve_prime(self, text: str) -> str:
        key = normalise_label(text)
        if key in self._prime_names:
            return self._prime_names[key]
        close = difflib.get_close_matches(key, list(self._prime_names), n=3, cutoff=0.6)
        names = sorted({self.primes[self._prime_names[c]].prime_name for c in close})
        hint = f" Nearest known: {', '.join(names)}." if names else ""
        raise UnknownOrganisation(f"Prime {text!r} is not one wpmi knows.{hint} Check the spelling or --prime.")

    def resolve_contract(self, prime_id: str, cpa: int) -> str:
        contract = self.contracts.get((prime_id, cpa))
        if contract is None:
            cpas = sorted(c for p, c in self.contracts if p == prime_id)
            raise UnknownOrganisation(
                f"{self.primes[prime_id].prime_name} has no contract in CPA {cpa} "
                f"(its CPAs: {', '.join(map(str, cpas))}). Check the CPA number or --cpa."
            )
        return contract.contract_id

    def resolve_partner(self, name: str, register: bool) -> tuple[int | None, str, bool]:
        key = normalise_label(name)
        if key in self.partners:
            row = self.partners[key]
            return row.partner_id, row.partner_name, False
        if register:
            return None, " ".join(str(name).split()), True
        close = difflib.get_close_matches(key, list(self.partners), n=3, cutoff=0.6)
        names = [self.partners[c].partner_name for c in close]
        hint = (
            f" Nearest registered: {', '.join(names)}." if names else " No partner with a similar name is registered."
        )
        raise UnknownOrganisation(
            f"Partner {name!r} is not registered.{hint} Fix the name, or pass --register-partner to add it."
        )


def _parse_cpa(value) -> int:
    match = re.search(r"\d{1,2}", str(value))
    if not match or not 1 <= int(match.group()) <= 18:
        raise UnknownOrganisation(f"CPA {value!r} is not a CPA number from 1 to 18. Check the header or --cpa.")
    return int(match.group())


def resolve_sender(registry: Registry, meta: dict, options: dict, inferred_period: date | None, file: str) -> Sender:
    """Combine the file's header (preferred) with CLI options, and resolve every name.

    Typed names are quoted in the messages below, and a partner's is stored: the pipeline has refused any that hold
    personal data before the file was read (loaders/pipeline.py, find_personal_typed), and the file's own values
    were scanned with its cells."""

    def pick(key):
        value = meta.get(key)
        return value if value not in (None, "") else options.get(key)

    missing = [k for k in ("partner", "prime", "cpa") if pick(k) in (None, "")]
    if missing:
        flags = " ".join(f"--{k}" for k in missing)
        raise UnknownOrganisation(
            f"{file}: the file does not say its {', '.join(missing)}. Add the header block "
            f"(see `wpmi template`) or pass {flags}."
        )
    prime_id = registry.resolve_prime(str(pick("prime")))
    cpa = _parse_cpa(pick("cpa"))
    contract_id = registry.resolve_contract(prime_id, cpa)
    partner_id, partner_name, new = registry.resolve_partner(
        str(pick("partner")), bool(options.get("register_partner"))
    )
    raw_period = pick("period")
    if raw_period not in (None, ""):
        period, problem = parse_month(raw_period)
        if period is None or problem:
            raise UnknownOrganisation(
                f"{file}: reporting period {raw_period!r} is not a month. Write it as 2013-03 or March 2013."
            )
    elif inferred_period is not None:
        period = inferred_period
    else:
        raise UnknownOrganisation(
            f"{file}: no reporting period in the file and no dates to infer it from. Pass --period YYYY-MM."
        )
    return Sender(partner_id, partner_name, prime_id, contract_id, cpa, period, new)


def register_partner(
    conn: Connection, name: str, sector: str = "unknown", tier: str = "unknown", source: str = "registered at ingest"
) -> int:
    """Add a partner; sector and tier must be one of schema.SECTORS and schema.TIERS.

    A name that holds personal data is refused (PersonalDataRefused, naming the kind, never the name): wpmi
    stores organisations, and a partner name is shown on every page.
    """
    kind = kind_of(name)
    if kind:
        raise PersonalDataRefused(
            f"The partner name to register looks like {kind}. wpmi never stores personal data: register the "
            "organisation under its own name."
        )
    if sector not in schema.SECTORS or tier not in schema.TIERS:
        raise UnknownOrganisation(f"Sector must be one of {schema.SECTORS} and tier one of {schema.TIERS}.")
    result = conn.execute(
        schema.partner.insert().values(
            partner_name=name,
            sector=sector,
            tier=tier,
            registered_at=datetime.now(UTC).replace(tzinfo=None),
            source=source,
        )
    )
    conn.execute(
        schema.audit_log.insert().values(
            at=datetime.now(UTC).replace(tzinfo=None), action="registered", detail=f"partner {name}"
        )
    )
    inserted = result.inserted_primary_key
    assert inserted is not None, "a single-row INSERT into partner always returns its primary key"
    return inserted[0]
