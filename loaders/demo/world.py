"""The synthetic programme's organisations: partners, their sectors and tiers, and which contracts they serve.

Everything here is SYNTHETIC. Contracts, primes and CPAs are the real ones from data/reference; partner
names are made up from word lists. Calibration notes (sector mix, volumes) cite work-programme.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# work-programme.md: VCS about 47-48% of subcontractors; the rest private and public bodies.
SECTOR_MIX = {"vcs": 0.47, "private": 0.38, "public": 0.15}
END_TO_END_SHARE = 0.45
PARTNERS = {"tiny": 60, "small": 350, "programme": 350}  # "tiny" is for the test suite
SECOND_CONTRACT_SHARE = 0.12  # partners delivering for two contracts (a VCS risk: dependence on one prime)
PLANTED = {"tiny": 3, "small": 8, "programme": 8}  # planted clearly better, and as many clearly worse

PLACES = (
    "Tyneside",
    "Wearside",
    "Humber",
    "Pennine",
    "Mersey",
    "Solent",
    "Severn",
    "Trent",
    "Clyde",
    "Tay",
    "Cardiff Bay",
    "Gwent",
    "Fenland",
    "Chiltern",
    "Medway",
    "Wessex",
    "Peak",
    "Dales",
    "Calder",
    "Aire",
    "Black Country",
    "Marches",
    "Cotswold",
    "Tamar",
    "Exe",
    "Wirral",
    "Fylde",
    "Ribble",
    "Tees",
    "Wansbeck",
    "Lothian",
    "Forth",
    "Dee",
    "Usk",
    "Thames Gateway",
    "Lea Valley",
    "Wandle",
    "Brent",
    "Cam",
    "Ouse",
)
VCS_WORDS = (
    "Pathways",
    "Futures",
    "Community",
    "Works",
    "Foundation",
    "Action",
    "Horizons",
    "Opportunities",
    "Bridges",
    "Steps",
    "Roots",
    "Hope",
    "Neighbourhoods",
    "Lifeline",
)
VCS_SUFFIX = ("Trust", "Charity", "CIC", "Network", "Partnership", "Association")
PRIVATE_WORDS = ("Skills", "Training", "Employment", "Careers", "Recruitment", "Learning", "Talent", "Workforce")
PRIVATE_SUFFIX = ("Ltd", "Limited", "Group", "Solutions", "Services")
PUBLIC_NAMES = (
    "{place} Council Employment Service",
    "{place} College",
    "{place} Health Trust Vocational Team",
    "{place} Borough Council Work Team",
)


@dataclass
class Partner:
    partner_id: int
    name: str
    sector: str
    tier: str
    contracts: list[str] = field(default_factory=list)
    effect: float = 1.0  # multiplier on the odds of a job start (planted better > 1, worse < 1)
    planted: str = "similar"  # better | worse | similar
    attach_rate: float = 0.94
    slip: float = 0.02  # chance that any one milestone runs late (service standards met at varied rates)
    # Mean delays (days) of a milestone that runs late; on-time milestones fall within a few days.
    contact_days: float = 3.0
    assess_days: float = 8.0
    plan_days: float = 10.0
    exit_report_days: float = 7.0
    contact_gap: float = 14.0  # mean days between contacts
    iws_rate: float = 0.9  # share of job starters offered in-work support
    aggregate_only: bool = False
    sends_contacts: bool = False
    volume_weight: float = 1.0


def _name(rng: np.random.Generator, sector: str, used: set[str]) -> str:
    for _ in range(1000):
        place = rng.choice(PLACES)
        if sector == "vcs":
            name = f"{place} {rng.choice(VCS_WORDS)} {rng.choice(VCS_SUFFIX)}"
        elif sector == "private":
            name = f"{place} {rng.choice(PRIVATE_WORDS)} {rng.choice(PRIVATE_SUFFIX)}"
        else:
            name = str(rng.choice(PUBLIC_NAMES)).format(place=place)
        if name not in used:
            used.add(name)
            return name
    raise RuntimeError("ran out of synthetic partner names")  # pragma: no cover


def build_partners(rng: np.random.Generator, contracts: list[dict], scale: str) -> list[Partner]:
    """About 350 partners spread over the 40 contracts, each contract with end-to-end and specialist partners."""
    n = PARTNERS[scale]
    used: set[str] = set()
    sectors = rng.choice(list(SECTOR_MIX), size=n, p=list(SECTOR_MIX.values()))
    partners = []
    for i in range(n):
        tier = "end_to_end" if rng.random() < END_TO_END_SHARE else "specialist"
        p = Partner(
            partner_id=i + 1,
            name=_name(rng, sectors[i], used),
            sector=str(sectors[i]),
            tier=tier,
            effect=float(np.exp(rng.normal(0, 0.08))),
            attach_rate=float(np.clip(rng.normal(0.94, 0.02), 0.85, 0.99)),
            slip=float(rng.choice([0.0, 0.01, 0.05, 0.15, 0.35], p=[0.25, 0.25, 0.25, 0.15, 0.10])),
            contact_days=float(rng.uniform(3, 8)),
            assess_days=float(rng.uniform(6, 20)),
            plan_days=float(rng.uniform(10, 25)),
            exit_report_days=float(rng.uniform(8, 20)),
            contact_gap=float(rng.uniform(9, 20)),
            iws_rate=float(rng.uniform(0.75, 1.0)),
            aggregate_only=bool(rng.random() < 0.12),
            sends_contacts=bool(rng.random() < 0.25),
            volume_weight=float(rng.lognormal(0.8 if tier == "end_to_end" else -0.6, 0.5)),
        )
        partners.append(p)
    # Every contract gets partners in turn, so no contract is left without a supply chain.
    order = rng.permutation(n)
    for k, idx in enumerate(order):
        partners[idx].contracts.append(contracts[k % len(contracts)]["contract_id"])
    for idx in rng.choice(n, size=int(n * SECOND_CONTRACT_SHARE), replace=False):
        p = partners[idx]
        options = [c["contract_id"] for c in contracts if c["contract_id"] not in p.contracts]
        p.contracts.append(str(rng.choice(options)))
    _plant(rng, partners, PLANTED[scale])
    return partners


def _plant(rng: np.random.Generator, partners: list[Partner], count: int) -> None:
    """Plant clearly better and clearly worse end-to-end partners with participant-level data and volume."""
    eligible = [p for p in partners if p.tier == "end_to_end" and not p.aggregate_only and len(p.contracts) == 1]
    chosen = rng.choice(len(eligible), size=2 * count, replace=False)
    for k, idx in enumerate(chosen):
        p = eligible[idx]
        p.planted = "better" if k < count else "worse"
        p.effect = 2.6 if p.planted == "better" else 0.4
        p.volume_weight = max(p.volume_weight, 5.0)  # enough participants for the difference to be evident
