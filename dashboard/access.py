"""Who may see what: the publication mode and participant-level access, decided by pure functions.

Seed 001 Recommendation 1b/1c: MI may be published openly up to the latest official statistics ("public"),
and shared among the supply chain beyond that ("member"). With Streamlit's OIDC sign-in configured, signed-in
users are members; a partner's users see their own participant-level detail and other partners only as
aggregates. No identity provider is needed to test this module: it takes the user's claims as a dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PUBLIC, MEMBER = "public", "member"


@dataclass(frozen=True)
class Access:
    """What one viewer may see."""

    mode: str  # public | member
    partner_ids: frozenset[int] = field(default_factory=frozenset)  # whose participant-level detail they may see
    all_detail: bool = False  # every partner's participant-level detail (local runs, administrators)
    reason: str = ""

    @property
    def public(self) -> bool:
        return self.mode == PUBLIC

    @property
    def can_upload(self) -> bool:
        """Uploading and submission details are for members only."""
        return self.mode == MEMBER

    def may_see_participants_of(self, partner_id: int) -> bool:
        return self.mode == MEMBER and (self.all_detail or partner_id in self.partner_ids)


def decide(
    *,
    configured_mode: str,
    auth_configured: bool,
    user: dict | None,
    partner_domains: dict[str, list[int]] | None = None,
    admins: frozenset[str] = frozenset(),
) -> Access:
    """The viewer's access from the deployment's mode, whether sign-in is set up, and the user's claims.

    - configured_mode "public": everyone gets public mode (a published deployment has no member area).
    - No sign-in configured: the configured mode (a local run is "member" with every detail: the data owner).
    - Sign-in configured and not signed in: public.
    - Signed in: member; administrators (by email) see all detail; others see the participant-level
      detail of the partners their email domain (or a `wpmi_partner_ids` claim) belongs to.
    """
    if configured_mode not in (PUBLIC, MEMBER):
        raise ValueError(f"WPMI_MODE={configured_mode!r}: use 'member' or 'public'.")
    if configured_mode == PUBLIC:
        return Access(PUBLIC, reason="this deployment publishes to the public")
    if not auth_configured:
        return Access(MEMBER, all_detail=True, reason="local run without sign-in")
    if not user or not user.get("is_logged_in"):
        return Access(PUBLIC, reason="not signed in")
    email = str(user.get("email") or "").lower()
    if email and email in {a.lower() for a in admins}:
        return Access(MEMBER, all_detail=True, reason=f"administrator {email}")
    ids: set[int] = set()
    claim = user.get("wpmi_partner_ids")
    if claim:
        ids.update(int(x) for x in (claim if isinstance(claim, (list, tuple)) else str(claim).split(",")))
    domain = email.rsplit("@", 1)[-1] if "@" in email else ""
    for known, partner_ids in (partner_domains or {}).items():
        if domain and domain == known.lower():
            ids.update(partner_ids)
    reason = f"signed in as {email or 'a member'}" + (f", partner(s) {sorted(ids)}" if ids else "")
    return Access(MEMBER, partner_ids=frozenset(ids), reason=reason)
