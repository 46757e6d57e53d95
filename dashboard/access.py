"""Who may see what and who may change what, decided by pure functions of the viewer and the thing.

Seed 001 Recommendation 1b/1c: MI may be published openly up to the latest official statistics ("public"),
and shared among the supply chain beyond that ("member"). Who is a member is the member registry
(`dashboard/members.py`, managed with `wpmi members` and the Members page), keyed by a *verified* e-mail, with
a role and the organisations it covers:

| role | participant-level detail | uploads for | withdraws | registers partners, changes the registry |
|---|---|---|---|---|
| partner | its own partners | its own partners | its own partners' submissions | no |
| prime | its contracts' supply-chain partners | any partner, on its own contracts | on its own contracts | no |
| analyst | none (member aggregates) | no | no | no |
| admin | everyone | anyone | anything | yes |

A signed-in account that is not in the registry (and whose verified domain no convenience rule names) gets
public mode and is told whom to ask; an unverified e-mail counts for nothing. With no sign-in configured, the
dashboard is a local run by the data owner (the "operator": every detail, every write), which
`dashboard/ui.py` serves to this machine only. The command line acts as the operator too: whoever holds the
database credentials owns the data.

No identity provider is needed to test this module: it takes the user's claims and registry rows as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dashboard.members import RegistryEntry
from dashboard.schema import ADMIN, ANALYST, PARTNER_ROLE, PRIME_ROLE

PUBLIC, MEMBER = "public", "member"
OPERATOR = "operator"  # the local data owner: a run without sign-in, or the command line


@dataclass(frozen=True)
class Access:
    """What one viewer may see and do."""

    mode: str  # public | member
    role: str = ""  # partner | prime | analyst | admin | operator; "" in public mode
    identity: str = ""  # the verified e-mail, or who runs the command line; recorded with every write
    partner_ids: frozenset[int] = field(default_factory=frozenset)  # partners whose detail they may see
    prime_ids: frozenset[str] = field(default_factory=frozenset)  # primes whose contracts they act for
    reason: str = ""  # why: shown beside the mode
    message: str = ""  # what the viewer should know (e.g. whom to ask for access)

    @property
    def public(self) -> bool:
        return self.mode == PUBLIC

    @property
    def all_detail(self) -> bool:
        """Every partner's participant-level detail (administrators and the local operator)."""
        return self.mode == MEMBER and self.role in (ADMIN, OPERATOR)

    @property
    def can_upload(self) -> bool:
        """Whether the upload page is offered at all; each upload is still decided by `may_upload`."""
        return self.mode == MEMBER and self.role in (PARTNER_ROLE, PRIME_ROLE, ADMIN, OPERATOR)

    def may_see_participants_of(self, partner_id: int) -> bool:
        return self.mode == MEMBER and (self.all_detail or int(partner_id) in self.partner_ids)

    def may_see_submission_of(self, partner_id: int, prime_id: str) -> bool:
        """A submission's file name, sender and who loaded it: for the sender, its prime, administrators."""
        return self.may_see_participants_of(partner_id) or (self.mode == MEMBER and prime_id in self.prime_ids)


def operator(identity: str) -> Access:
    """The data owner at the command line or a local run without sign-in."""
    return Access(MEMBER, OPERATOR, identity, reason="local run by the data owner")


@dataclass(frozen=True)
class Decision:
    """Whether one write is allowed, and why (the reason is shown and audited)."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def _who(access: Access) -> str:
    return f"{access.identity or 'this viewer'} ({access.role or access.mode})"


def may_upload(access: Access, partner_id: int | None, prime_id: str | None) -> Decision:
    """An upload for a partner (None: a partner to be registered) on a contract of `prime_id`."""
    if access.mode != MEMBER:
        return Decision(False, "uploads are for signed-in members only")
    if access.role in (ADMIN, OPERATOR):
        return Decision(True, f"{_who(access)} may upload for any partner")
    if partner_id is None:
        return Decision(False, f"{_who(access)} may not register a new partner: ask a wpmi administrator")
    if access.role == PARTNER_ROLE and partner_id in access.partner_ids:
        return Decision(True, f"{_who(access)} uploads for their own partner")
    if access.role == PRIME_ROLE and prime_id is not None and prime_id in access.prime_ids:
        return Decision(True, f"{_who(access)} uploads on their own prime's contract")
    return Decision(False, f"{_who(access)} may not upload for another organisation's partner or contract")


def may_withdraw(access: Access, partner_id: int, prime_id: str) -> Decision:
    """Withdrawing a submission sent for `partner_id` on a contract of `prime_id`."""
    if access.mode != MEMBER:
        return Decision(False, "withdrawals are for signed-in members only")
    if access.role in (ADMIN, OPERATOR):
        return Decision(True, f"{_who(access)} may withdraw any submission")
    if access.role == PARTNER_ROLE and partner_id in access.partner_ids:
        return Decision(True, f"{_who(access)} withdraws their own partner's submission")
    if access.role == PRIME_ROLE and prime_id in access.prime_ids:
        return Decision(True, f"{_who(access)} withdraws a submission on their own prime's contract")
    return Decision(False, f"{_who(access)} may not withdraw another organisation's submission")


def may_register_partner(access: Access) -> Decision:
    if access.mode == MEMBER and access.role in (ADMIN, OPERATOR):
        return Decision(True, f"{_who(access)} may register partners")
    return Decision(False, f"{_who(access)} may not register a new partner: ask a wpmi administrator")


def may_manage_members(access: Access) -> Decision:
    if access.mode == MEMBER and access.role in (ADMIN, OPERATOR):
        return Decision(True, f"{_who(access)} may change the member registry")
    return Decision(False, f"{_who(access)} may not change the member registry: only an administrator may")


AUTH_KEYS = ("redirect_uri", "cookie_secret")
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")


def auth_problems(auth: Mapping) -> list[str]:
    """What is missing from a secrets file's [auth] section for Streamlit's OIDC sign-in (none: complete).

    Streamlit needs redirect_uri and cookie_secret, and the provider's client_id, client_secret and
    server_metadata_url either in [auth] itself or in every named provider section ([auth.google], ...).
    """
    if not isinstance(auth, Mapping):
        return ["[auth] is not a section"]
    problems = [f"{key} is missing" for key in AUTH_KEYS if not str(auth.get(key) or "").strip()]
    providers = {name: value for name, value in auth.items() if isinstance(value, Mapping)}
    if not providers:
        providers = {"": auth}
    for name, provider in providers.items():
        where = f" from [auth.{name}]" if name else ""
        problems += [f"{key} is missing{where}" for key in PROVIDER_KEYS if not str(provider.get(key) or "").strip()]
    return problems


def decide(
    *,
    configured_mode: str,
    auth_configured: bool,
    user: Mapping | None,
    registry: Iterable[RegistryEntry] = (),
    supply_chains: Mapping[str, Iterable[int]] | None = None,
    partner_domains: Mapping[str, Iterable[int]] | None = None,
    contact: str = "",
) -> Access:
    """The viewer's access from the deployment's mode, whether sign-in is set up, the user's claims, and the
    registry rows for the user's e-mail.

    - configured_mode "public": everyone gets public mode (a published deployment has no member area).
    - No sign-in configured: the local operator, with every detail (`ui` serves it to this machine only).
    - Sign-in configured and not signed in, or signed in with an unverified e-mail: public.
    - Signed in, verified, in the registry: member with the registry's role; a prime user's partners are the
      partners with returns on its contracts (`supply_chains`, prime id -> partner ids).
    - Signed in, verified, not in the registry but at a domain in `partner_domains`: a partner user.
    - Otherwise: public, with a message naming `contact` as the person to ask.
    """
    if configured_mode not in (PUBLIC, MEMBER):
        raise ValueError(f"WPMI_MODE={configured_mode!r}: use 'member' or 'public'.")
    if configured_mode == PUBLIC:
        return Access(PUBLIC, reason="this deployment publishes to the public")
    if not auth_configured:
        return operator("local")
    if not user or not user.get("is_logged_in"):
        return Access(PUBLIC, reason="not signed in")
    email = str(user.get("email") or "").strip().lower()
    ask = f"Ask {contact} to add you as a member." if contact else "Ask your wpmi administrator to add you."
    if not email or user.get("email_verified") is not True:
        return Access(
            PUBLIC,
            reason="signed in, e-mail not verified",
            message=f"Your sign-in did not confirm that you own {email or 'an e-mail address'}, so wpmi shows "
            f"public figures only. Verify the address with your identity provider, or sign in another way. {ask}",
        )
    entries = list(registry)
    if not entries:
        domain = email.rpartition("@")[2]
        by_domain = {k.lower(): v for k, v in (partner_domains or {}).items()}
        if domain in by_domain:
            entries = [RegistryEntry(PARTNER_ROLE, partner_id=int(p)) for p in by_domain[domain]]
    if not entries:
        return Access(
            PUBLIC,
            identity=email,
            reason=f"signed in as {email}, not a member",
            message=f"{email} is not in wpmi's member registry, so you see public figures only. {ask}",
        )
    roles = {e.role for e in entries}
    role = next(r for r in (ADMIN, PRIME_ROLE, PARTNER_ROLE, ANALYST) if r in roles)  # the widest, if mixed
    primes = frozenset(e.prime_id for e in entries if e.prime_id is not None and e.role == PRIME_ROLE)
    partners = {int(e.partner_id) for e in entries if e.partner_id is not None and e.role == PARTNER_ROLE}
    for prime in primes:
        partners.update(int(p) for p in (supply_chains or {}).get(prime, ()))
    if role in (ANALYST, ADMIN):
        partners, primes = set(), frozenset()
    return Access(
        MEMBER,
        role,
        email,
        partner_ids=frozenset(partners),
        prime_ids=primes if role == PRIME_ROLE else frozenset(),
        reason=f"signed in as {email} ({role})",
    )
