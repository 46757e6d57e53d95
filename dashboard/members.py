"""The member registry: who may sign in as a member, with which role, for which organisations.

Keyed by e-mail (lower case): the dashboard trusts a row only for a sign-in whose identity provider verified
that e-mail (`dashboard/access.py`). A partner user has one row per partner it covers, a prime user one row per
prime; analysts and administrators cover no organisation. One e-mail has one role. Every change is audited with
the identity that made it. `wpmi members add|remove|list` and the Members page are the two ways in; both check
`access.may_manage_members` first, and both resolve organisation names to ids before calling here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from dashboard import schema
from dashboard.audit import audit, now

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class MemberError(ValueError):
    """A registry change that cannot be made as asked; the message says why and what to do."""


@dataclass(frozen=True)
class RegistryEntry:
    """One row of the registry, as the access decision reads it."""

    role: str
    partner_id: int | None = None
    prime_id: str | None = None


def normalise_email(email: str) -> str:
    cleaned = email.strip().lower()
    if not EMAIL.fullmatch(cleaned):
        raise MemberError(f"{email!r} is not an e-mail address: give the address the member signs in with.")
    return cleaned


def entries_for(conn: Connection, email: str) -> list[RegistryEntry]:
    """The registry rows of one e-mail (none: not a member)."""
    m = schema.member.c
    rows = conn.execute(select(m.role, m.partner_id, m.prime_id).where(m.email == email.strip().lower())).all()
    return [RegistryEntry(r.role, r.partner_id, r.prime_id) for r in rows]


def supply_chains(conn: Connection, prime_ids: Iterable[str]) -> dict[str, set[int]]:
    """Prime id -> the partners with a current return on one of its contracts (its supply chain in wpmi)."""
    wanted = sorted(set(prime_ids))
    if not wanted:
        return {}
    s, k = schema.submission.c, schema.contract.c
    rows = conn.execute(
        select(k.prime_id, s.partner_id)
        .distinct()
        .join_from(schema.submission, schema.contract, s.contract_id == k.contract_id)
        .where(k.prime_id.in_(wanted), s.status == "current")
    ).all()
    chains: dict[str, set[int]] = {p: set() for p in wanted}
    for prime_id, partner_id in rows:
        chains[prime_id].add(int(partner_id))
    return chains


def add_member(
    conn: Connection,
    email: str,
    role: str,
    *,
    partner_ids: Iterable[int] = (),
    prime_ids: Iterable[str] = (),
    actor: str,
) -> int:
    """Add `email` with `role` for the given organisations (rows already there are kept); the rows added."""
    email = normalise_email(email)
    partners, primes = sorted(set(partner_ids)), sorted(set(prime_ids))
    if role not in schema.ROLES:
        raise MemberError(f"Role {role!r} is not one wpmi knows: use one of {', '.join(schema.ROLES)}.")
    if role == schema.PARTNER_ROLE and (not partners or primes):
        raise MemberError(f"A partner user covers one or more partners and no prime: give --partner for {email}.")
    if role == schema.PRIME_ROLE and (not primes or partners):
        raise MemberError(f"A prime user covers one or more primes and no partner: give --prime for {email}.")
    if role in (schema.ANALYST, schema.ADMIN) and (partners or primes):
        raise MemberError(f"An {role} covers no organisation: leave out --partner and --prime for {email}.")
    held = entries_for(conn, email)
    other = {e.role for e in held} - {role}
    if other:
        raise MemberError(
            f"{email} is already registered as {', '.join(sorted(other))}; one e-mail has one role. Remove them "
            "first (wpmi members remove) and add them again with the new role."
        )
    have = {(e.partner_id, e.prime_id) for e in held}
    wanted: list[tuple[int | None, str | None]] = [(p, None) for p in partners] + [(None, q) for q in primes]
    new = [pair for pair in wanted or [(None, None)] if pair not in have]
    for partner_id, prime_id in new:
        conn.execute(
            schema.member.insert().values(
                email=email, role=role, partner_id=partner_id, prime_id=prime_id, added_at=now(), added_by=actor
            )
        )
    if new:
        covers = ", ".join(f"partner {p}" if p is not None else f"prime {q}" for p, q in new if (p, q) != (None, None))
        audit(conn, "member added", actor=actor, detail=f"{email} as {role}" + (f" for {covers}" if covers else ""))
    return len(new)


def remove_member(conn: Connection, email: str, *, actor: str) -> int:
    """Remove every registry row of `email`; the rows removed (MemberError if there were none)."""
    email = normalise_email(email)
    removed = conn.execute(delete(schema.member).where(schema.member.c.email == email)).rowcount
    if not removed:
        raise MemberError(f"{email} is not in the member registry: nothing to remove (see wpmi members list).")
    audit(conn, "member removed", actor=actor, detail=email)
    return removed


def list_members(conn: Connection) -> list[dict]:
    """Every member row with its organisation's name, ordered by e-mail."""
    m, pa, pr = schema.member.c, schema.partner.c, schema.prime.c
    rows = conn.execute(
        select(m.email, m.role, pa.partner_name, pr.prime_name, m.added_at, m.added_by)
        .select_from(schema.member)
        .outerjoin(schema.partner, m.partner_id == pa.partner_id)
        .outerjoin(schema.prime, m.prime_id == pr.prime_id)
        .order_by(m.email, pa.partner_name, pr.prime_name)
    ).all()
    return [
        {
            "email": r.email,
            "role": r.role,
            "organisation": r.partner_name or r.prime_name or "",
            "added_at": r.added_at,
            "added_by": r.added_by,
        }
        for r in rows
    ]
