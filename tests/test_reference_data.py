"""The programme reference data in data/reference/: CPAs, primes, contracts, payment groups, MPLs and the
catalogue of every prime's published Minimum Service Levels (seed 004) as machine-readable standards."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "data" / "reference"
SEED_004 = ROOT.parent / "shared" / "seeds" / "004_8301679091d4d30f.txt"

TABLES = ("cpas", "primes", "contracts", "payment_groups", "minimum_performance_levels", "standards")
STAGES = ("pre_programme_engagement", "programme_engagement", "pre_work_support", "in_work_support", "programme_exit")
RULE_KINDS = ("time_limit", "conversion", "contact_frequency", "qualitative")
# The journey milestones of the MI template, in the order they happen.
MILESTONES = (
    "referral_date",
    "first_contact_date",
    "attachment_date",
    "initial_assessment_date",
    "action_plan_date",
    "job_start_date",
    "in_work_support_offered",
    "job_outcome_date",
    "exit_date",
    "exit_report_requested_date",
    "exit_report_sent_date",
)
RULE_FIELDS = ("from_milestone", "to_milestone", "limit_days", "day_basis", "target_share", "frequency_days")
PG_CODES = tuple(f"PG{i}" for i in range(1, 10))

# The CPA table of work-programme.md (primes from seed 004), restated independently of contracts.csv.
PUBLISHED_CPA_TABLE = {
    1: {"ingeus", "seetec"},
    2: {"ingeus", "a4e"},
    3: {"ingeus", "maximus", "reed"},
    4: {"seetec", "a4e", "cdg"},
    5: {"ingeus", "avanta"},
    6: {"ingeus", "a4e"},
    7: {"seetec", "avanta", "g4s"},
    8: {"ingeus", "working_links"},
    9: {"a4e", "maximus"},
    10: {"avanta", "g4s"},
    11: {"working_links", "prospects"},
    12: {"jhp", "rehab_jobfit"},
    13: {"working_links", "rehab_jobfit"},
    14: {"eos", "ncg"},
    15: {"esg", "serco"},
    16: {"ingeus", "interserve"},
    17: {"a4e", "serco"},
    18: {"maximus", "g4s", "ncg"},
}

# The prime section headings of seed 004, exactly as printed there.
SEED_004_HEADINGS = (
    "Ingeus",
    "Seetec",
    "A4e",
    "Maximus",
    "Reed",
    "CDG",
    "Avanta",
    "G4S",
    "Working Links",
    "Prospects",
    "Learndirect Limited",
    "Rehab Jobfit",
    "EOS",
    "NCG",
    "ESG Holdings",
    "Serco",
    "Interserve",
)


@cache
def read(table: str) -> tuple[dict[str, str], ...]:
    with open(REFERENCE / f"{table}.csv", newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def contract_cpas_by_prime() -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    for c in read("contracts"):
        out[c["prime_id"]].add(int(c["cpa_code"]))
    return out


def standards_by_prime() -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for s in read("standards"):
        out[s["prime_id"]].append(s)
    return out


def prime_for_name(name: str) -> str | None:
    """The prime_id whose display name or one of whose aliases matches name (case-insensitive)."""
    wanted = name.casefold()
    for p in read("primes"):
        if wanted in {n.casefold() for n in [p["prime_name"], *split(p["aliases"])]}:
            return p["prime_id"]
    return None


def seed_004_text() -> str:
    if not SEED_004.exists():
        pytest.skip(f"seed 004 is not present at {SEED_004}; cannot cross-check the standards against it")
    return SEED_004.read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------ CPAs


def test_there_are_18_cpas_with_names_and_nations():
    cpas = read("cpas")
    assert sorted(int(c["cpa_code"]) for c in cpas) == list(range(1, 19))
    assert all(c["cpa_name"].strip() for c in cpas)
    assert len({c["cpa_name"] for c in cpas}) == 18
    nations = {int(c["cpa_code"]): c["nation"] for c in cpas}
    assert nations[8] == "scotland" and nations[13] == "wales"
    assert {n for code, n in nations.items() if code not in (8, 13)} == {"england"}


def test_cpa_name_status_flags_the_inferred_and_unconfirmed_names():
    status = {int(c["cpa_code"]): c["name_status"] for c in read("cpas")}
    assert set(status.values()) <= {"confirmed", "inferred", "not confirmed"}
    assert {code for code, s in status.items() if s == "inferred"} == {1, 4}
    assert {code for code, s in status.items() if s == "not confirmed"} == {10, 12}


# ------------------------------------------------------------------------------------------------ primes


def test_primes_have_unique_slug_ids_and_unambiguous_names():
    primes = read("primes")
    ids = [p["prime_id"] for p in primes]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", i) for i in ids)
    seen: dict[str, str] = {}
    for p in primes:
        assert p["prime_name"].strip()
        for name in [p["prime_name"], *split(p["aliases"])]:
            key = name.casefold()
            assert seen.setdefault(key, p["prime_id"]) == p["prime_id"], f"{name!r} names two primes"


def test_every_listed_prime_holds_a_contract_and_every_contract_prime_is_listed():
    assert {p["prime_id"] for p in read("primes")} == {c["prime_id"] for c in read("contracts")}


def test_known_alternative_spellings_resolve_to_the_right_prime():
    assert prime_for_name("Ingeus UK") == "ingeus"
    assert prime_for_name("Ingeus Deloitte") == "ingeus"
    assert prime_for_name("Learndirect") == "jhp"
    assert prime_for_name("JHP") == "jhp"
    assert prime_for_name("Intraining") == "ncg"
    assert prime_for_name("MAXIMUS") == "maximus"
    assert prime_for_name("ESG Holdings") == "esg"
    assert prime_for_name("Rehab Jobfit") == "rehab_jobfit"


# ------------------------------------------------------------------------------------------------ contracts


def test_there_are_40_contracts_and_each_names_a_known_prime_and_cpa():
    contracts = read("contracts")
    assert len(contracts) == 40
    primes = {p["prime_id"] for p in read("primes")}
    cpas = {int(c["cpa_code"]) for c in read("cpas")}
    ids = set()
    for c in contracts:
        assert c["prime_id"] in primes
        assert int(c["cpa_code"]) in cpas
        assert c["contract_id"] == f"CPA{int(c['cpa_code']):02d}-{c['prime_id']}"
        ids.add(c["contract_id"])
    assert len(ids) == 40


def test_contracts_match_the_published_cpa_table():
    by_cpa: dict[int, set[str]] = defaultdict(set)
    for c in read("contracts"):
        by_cpa[int(c["cpa_code"])].add(c["prime_id"])
    assert dict(by_cpa) == PUBLISHED_CPA_TABLE


def test_contracts_start_in_june_2011_and_end_by_march_2017():
    for c in read("contracts"):
        start, end = date.fromisoformat(c["start_date"]), date.fromisoformat(c["end_date"])
        assert start == date(2011, 6, 1)
        assert start < end <= date(2017, 3, 31)
        assert (end == date(2017, 3, 31)) == (c["end_reason"] == ""), c["contract_id"]


def test_ncg_cpa18_contract_is_terminated_early_and_cpa14_runs_to_the_end():
    contracts = {c["contract_id"]: c for c in read("contracts")}
    cpa18, cpa14 = contracts["CPA18-ncg"], contracts["CPA14-ncg"]
    assert cpa18["end_date"] == "2015-03-31"
    assert "break clause" in cpa18["end_reason"] and "2014" in cpa18["end_reason"]
    assert cpa14["end_date"] == "2017-03-31" and cpa14["end_reason"] == ""
    assert [c["contract_id"] for c in contracts.values() if c["end_reason"]] == ["CPA18-ncg"]


# ---------------------------------------------------------------------------------- payment groups and MPLs


def test_payment_groups_pg1_to_pg9_with_outcome_periods():
    pgs = {p["code"]: p for p in read("payment_groups")}
    assert sorted(pgs) == list(PG_CODES)
    assert all(p["name"].strip() and p["short_name"].strip() for p in pgs.values())
    assert {p["benefit"] for p in pgs.values()} == {"JSA", "ESA", "IB/IS"}
    weeks = {code: int(p["outcome_weeks"]) for code, p in pgs.items()}
    assert weeks["PG1"] == weeks["PG2"] == 26
    assert all(weeks[f"PG{i}"] == 13 for i in range(4, 9))
    assert {code for code, p in pgs.items() if p["outcome_period_status"] == "assumed"} == {"PG3", "PG9"}
    assert {code for code, p in pgs.items() if p["england_only"] == "true"} == {"PG8"}
    assert {p["england_only"] for p in pgs.values()} == {"true", "false"}
    assert pgs["PG6"]["benefit"] == "ESA" and pgs["PG8"]["benefit"] == "IB/IS" and pgs["PG9"]["benefit"] == "JSA"


def test_minimum_performance_levels_cover_pg1_pg2_pg6():
    rows = read("minimum_performance_levels")
    assert {(int(r["contract_year"]), r["payment_group"]) for r in rows} == {
        (y, pg) for y in (1, 2, 3) for pg in ("PG1", "PG2", "PG6")
    }
    assert len(rows) == 9
    mpl = {(int(r["contract_year"]), r["payment_group"]): r["mpl"] for r in rows}
    assert mpl[(1, "PG1")] == "0.055" and mpl[(2, "PG1")] == "0.33" and mpl[(3, "PG1")] == "0.44"
    assert mpl[(2, "PG2")] == "0.275" and mpl[(3, "PG6")] == "0.165"
    assert [k for k, v in mpl.items() if v == ""] == [(1, "PG6")]  # "n.k." in the source
    assert all(0 < float(v) < 1 for v in mpl.values() if v)
    assert all(r["actual_note"].strip() and "share of referrals" in r["measure"] for r in rows)


def test_contract_years_are_consecutive_and_start_with_the_programme():
    spans = sorted(
        {(int(r["contract_year"]), r["year_start"], r["year_end"]) for r in read("minimum_performance_levels")}
    )
    assert [s[0] for s in spans] == [1, 2, 3]
    assert spans[0][1] == "2011-06-01"
    for (_, _, end), (_, next_start, _) in zip(spans, spans[1:]):
        assert (date.fromisoformat(next_start) - date.fromisoformat(end)).days == 1
    assert all(date.fromisoformat(s) < date.fromisoformat(e) for _, s, e in spans)


# ------------------------------------------------------------------------------------------------ standards


def test_every_prime_with_contracts_has_standards():
    by_prime = standards_by_prime()
    for prime in {c["prime_id"] for c in read("contracts")}:
        assert by_prime.get(prime), f"{prime} has contracts but no standards"


def test_every_prime_in_seed_004_has_standards():
    lines = {line.strip() for line in seed_004_text().splitlines()}
    by_prime = standards_by_prime()
    covered = set()
    for heading in SEED_004_HEADINGS:
        assert heading in lines, f"seed 004 has no section heading {heading!r}"
        prime = prime_for_name(heading)
        assert prime is not None, f"seed 004 heading {heading!r} matches no prime name or alias"
        assert by_prime.get(prime), f"seed 004 section {heading!r} ({prime}) has no standards"
        covered.add(prime)
    assert covered == {p["prime_id"] for p in read("primes")}


def test_standard_quotes_are_verbatim_excerpts_of_seed_004():
    seed = norm(seed_004_text())
    missing = [s["standard_id"] for s in read("standards") if norm(s["quote"]) not in seed]
    assert not missing, f"quotes not found in seed 004: {missing}"


def test_standard_ids_are_unique_and_numbered_within_their_prime():
    standards = read("standards")
    ids = [s["standard_id"] for s in standards]
    assert len(ids) == len(set(ids))
    for prime, rows in standards_by_prime().items():
        numbers = []
        for s in rows:
            m = re.fullmatch(rf"{re.escape(prime)}-(\d{{2}})", s["standard_id"])
            assert m, s["standard_id"]
            numbers.append(int(m.group(1)))
        assert sorted(numbers) == list(range(1, len(rows) + 1)), prime


def test_standards_use_only_known_stages_milestones_and_rule_kinds():
    primes = {p["prime_id"] for p in read("primes")}
    for s in read("standards"):
        sid = s["standard_id"]
        assert s["prime_id"] in primes, sid
        assert s["stage"] in STAGES, sid
        assert s["rule_kind"] in RULE_KINDS, sid
        for col in ("from_milestone", "to_milestone"):
            assert s[col] == "" or s[col] in MILESTONES, (sid, s[col])
        assert set(split(s["payment_groups"])) <= set(PG_CODES), sid
        assert s["title"].strip() and len(s["title"]) <= 70, sid
        assert s["quote"].strip() and len(s["quote"]) <= 160, sid


def test_every_stage_of_the_customer_journey_has_standards():
    assert {s["stage"] for s in read("standards")} == set(STAGES)


def test_time_limit_rules_have_limit_basis_and_target():
    rules = [s for s in read("standards") if s["rule_kind"] == "time_limit"]
    assert rules
    for s in rules:
        sid = s["standard_id"]
        assert s["from_milestone"] and s["to_milestone"], sid
        assert s["to_milestone"] != "in_work_support_offered", sid  # a flag, not a date
        assert re.fullmatch(r"\d+", s["limit_days"]) and int(s["limit_days"]) <= 31, sid
        assert s["day_basis"] in ("calendar", "working"), sid
        assert 0 < float(s["target_share"]) <= 1, sid
        assert s["frequency_days"] == "" and s["measurable_note"] == "", sid
    # "working days" in the wording, and only then, makes the limit count working days
    for s in rules:
        assert (s["day_basis"] == "working") == ("working day" in s["quote"]), s["standard_id"]


def test_conversion_rules_have_a_denominator_a_numerator_and_a_target():
    rules = [s for s in read("standards") if s["rule_kind"] == "conversion"]
    assert rules
    for s in rules:
        sid = s["standard_id"]
        assert s["from_milestone"] and s["to_milestone"], sid
        assert 0 < float(s["target_share"]) <= 1, sid
        assert s["limit_days"] == s["day_basis"] == s["frequency_days"] == s["measurable_note"] == "", sid


def test_contact_frequency_rules_have_frequency():
    rules = [s for s in read("standards") if s["rule_kind"] == "contact_frequency"]
    assert rules
    for s in rules:
        sid = s["standard_id"]
        assert int(s["frequency_days"]) in (7, 14, 28, 31, 62), sid
        assert s["from_milestone"] in ("attachment_date", "job_start_date"), sid
        assert s["to_milestone"] in ("job_start_date", "job_outcome_date", "exit_date"), sid
        assert 0 < float(s["target_share"]) <= 1, sid
        assert s["limit_days"] == s["day_basis"] == s["measurable_note"] == "", sid
        # an in-work window belongs to in-work support; a window that starts at attachment to the programme
        assert (s["from_milestone"] == "job_start_date") == (s["stage"] == "in_work_support"), sid


def test_qualitative_rules_have_no_rule_fields_and_a_note():
    rules = [s for s in read("standards") if s["rule_kind"] == "qualitative"]
    assert rules
    for s in rules:
        assert all(s[col] == "" for col in RULE_FIELDS), s["standard_id"]
        assert s["measurable_note"].strip(), s["standard_id"]


def test_rule_milestones_run_forwards_through_the_journey():
    for s in read("standards"):
        if s["rule_kind"] != "qualitative":
            assert MILESTONES.index(s["from_milestone"]) < MILESTONES.index(s["to_milestone"]), s["standard_id"]


def test_in_work_support_offers_are_measured_over_job_starts():
    rules = [s for s in read("standards") if s["to_milestone"] == "in_work_support_offered"]
    assert rules
    assert all(s["rule_kind"] == "conversion" and s["from_milestone"] == "job_start_date" for s in rules)


def test_milestones_the_mi_template_lacks_are_not_forced_into_rules():
    """A limit counted from induction, a job goal or a CV is not measurable from the MI milestones."""
    for s in read("standards"):
        quote = s["quote"].lower()
        if re.search(r"of (their )?induction|realistic job goal|\bcv within", quote):
            assert s["rule_kind"] == "qualitative", s["standard_id"]
            note = s["measurable_note"]
            assert "not in the MI template" in note or "not recorded" in note, s["standard_id"]


def test_standard_cpa_scope_matches_the_primes_contracts():
    held = contract_cpas_by_prime()
    for s in read("standards"):
        scope = [int(c) for c in split(s["cpa_scope"])]
        assert scope, s["standard_id"]
        assert set(scope) <= held[s["prime_id"]], s["standard_id"]


def test_every_running_contract_is_covered_by_its_primes_standards():
    covered: dict[str, set[int]] = defaultdict(set)
    for s in read("standards"):
        covered[s["prime_id"]].update(int(c) for c in split(s["cpa_scope"]))
    for c in read("contracts"):
        if c["end_date"] == "2017-03-31":
            assert int(c["cpa_code"]) in covered[c["prime_id"]], c["contract_id"]


def test_maximus_cpa18_payment_group_variants_split_the_groups_between_them():
    rows = [s for s in read("standards") if s["prime_id"] == "maximus" and s["payment_groups"]]
    assert rows and all(s["cpa_scope"] == "18" for s in rows)
    esa = [s for s in rows if split(s["payment_groups"]) == ["PG5", "PG6", "PG7"]]
    rest = [s for s in rows if split(s["payment_groups"]) == ["PG1", "PG2", "PG3", "PG4", "PG8", "PG9"]]
    assert len(esa) == len(rest) == 2 and len(rows) == 4


# ------------------------------------------------------------------------------------------------ all tables


@pytest.mark.parametrize("table", TABLES)
def test_every_table_names_its_source(table):
    rows = read(table)
    assert rows
    assert all(r["source"].strip() for r in rows)
    if table == "standards":
        assert all(r["source"].startswith("seed 004: ") for r in rows)
    else:
        assert all("work-programme.md" in r["source"] for r in rows)
