"""Who may see and change what: every role against every action, decided without any identity provider.

The world: partner 7 and partner 8 work on contracts of prime ING (its supply chain in wpmi), partner 9 on a
contract of prime A4E. The table below is the closing note's role x action table, as tested.
"""

from __future__ import annotations

import pytest

from dashboard.access import (
    MEMBER,
    OPERATOR,
    PUBLIC,
    Access,
    auth_problems,
    decide,
    may_manage_members,
    may_register_partner,
    may_upload,
    may_withdraw,
    operator,
)
from dashboard.members import RegistryEntry

CHAINS = {"ING": [7, 8], "A4E": [9]}
VERIFIED = {"is_logged_in": True, "email_verified": True}


def viewer(kind: str) -> Access:
    """The access each kind of viewer gets through `decide`, as the dashboard computes it."""
    sign_in = {"configured_mode": MEMBER, "auth_configured": True, "supply_chains": CHAINS}
    if kind == "operator":
        return decide(configured_mode=MEMBER, auth_configured=False, user=None)
    if kind == "anonymous":
        return decide(**sign_in, user={"is_logged_in": False})
    if kind == "unverified":  # at a partner's domain, in the registry, but the provider did not verify it
        return decide(
            **sign_in,
            user={"is_logged_in": True, "email": "jo@tees.org", "email_verified": False},
            registry=[RegistryEntry("partner", partner_id=7)],
            partner_domains={"tees.org": [7]},
        )
    if kind == "unregistered":
        return decide(**sign_in, user={**VERIFIED, "email": "someone@gmail.com"}, contact="data@wpmi.example")
    registry = {
        "partner": [RegistryEntry("partner", partner_id=7)],
        "prime": [RegistryEntry("prime", prime_id="ING")],
        "analyst": [RegistryEntry("analyst")],
        "admin": [RegistryEntry("admin")],
    }[kind]
    return decide(**sign_in, user={**VERIFIED, "email": f"{kind}@example.org"}, registry=registry)


# action -> what it asks, on the world above
ACTIONS = {
    "see detail of partner 7": lambda a: a.may_see_participants_of(7),
    "see detail of partner 8 (ING's chain)": lambda a: a.may_see_participants_of(8),
    "see detail of partner 9 (A4E's)": lambda a: a.may_see_participants_of(9),
    "upload for partner 7 on ING": lambda a: bool(may_upload(a, 7, "ING")),
    "upload for partner 8 on ING": lambda a: bool(may_upload(a, 8, "ING")),
    "upload for partner 9 on A4E": lambda a: bool(may_upload(a, 9, "A4E")),
    "upload for partner 7 on A4E": lambda a: bool(may_upload(a, 7, "A4E")),
    "upload registering a new partner": lambda a: bool(may_upload(a, None, "ING")),
    "withdraw partner 7's submission on ING": lambda a: bool(may_withdraw(a, 7, "ING")),
    "withdraw partner 9's submission on A4E": lambda a: bool(may_withdraw(a, 9, "A4E")),
    "register a partner": lambda a: bool(may_register_partner(a)),
    "change the member registry": lambda a: bool(may_manage_members(a)),
    "open the upload page": lambda a: a.can_upload,
}
Y, N = True, False
# columns: operator, anonymous, unverified, unregistered, partner, prime, analyst, admin
VIEWERS = ("operator", "anonymous", "unverified", "unregistered", "partner", "prime", "analyst", "admin")
TABLE = {
    "see detail of partner 7": (Y, N, N, N, Y, Y, N, Y),
    "see detail of partner 8 (ING's chain)": (Y, N, N, N, N, Y, N, Y),
    "see detail of partner 9 (A4E's)": (Y, N, N, N, N, N, N, Y),
    "upload for partner 7 on ING": (Y, N, N, N, Y, Y, N, Y),
    "upload for partner 8 on ING": (Y, N, N, N, N, Y, N, Y),
    "upload for partner 9 on A4E": (Y, N, N, N, N, N, N, Y),
    "upload for partner 7 on A4E": (Y, N, N, N, Y, N, N, Y),
    "upload registering a new partner": (Y, N, N, N, N, N, N, Y),
    "withdraw partner 7's submission on ING": (Y, N, N, N, Y, Y, N, Y),
    "withdraw partner 9's submission on A4E": (Y, N, N, N, N, N, N, Y),
    "register a partner": (Y, N, N, N, N, N, N, Y),
    "change the member registry": (Y, N, N, N, N, N, N, Y),
    "open the upload page": (Y, N, N, N, Y, Y, N, Y),
}


@pytest.mark.parametrize("action", list(TABLE))
@pytest.mark.parametrize("who", VIEWERS)
def test_every_role_may_do_exactly_what_the_table_says(who, action):
    expected = TABLE[action][VIEWERS.index(who)]
    assert ACTIONS[action](viewer(who)) is expected


def test_the_table_covers_every_action_and_viewer():
    assert set(TABLE) == set(ACTIONS) and all(len(row) == len(VIEWERS) for row in TABLE.values())


def test_a_refusal_says_who_and_why():
    decision = may_upload(viewer("partner"), 9, "A4E")
    assert not decision
    assert (
        decision.reason == "partner@example.org (partner) may not upload for another organisation's partner or contract"
    )


def test_an_unregistered_account_gets_public_mode_and_whom_to_ask():
    access = viewer("unregistered")
    assert access.mode == PUBLIC and "Ask data@wpmi.example to add you" in access.message


def test_an_unverified_email_counts_for_nothing_even_at_a_partners_domain():
    access = viewer("unverified")
    assert access.mode == PUBLIC and "did not confirm" in access.message


def test_a_verified_email_at_a_partner_domain_is_that_partners_user():
    access = decide(
        configured_mode=MEMBER,
        auth_configured=True,
        user={**VERIFIED, "email": "Jo@Tees.org"},
        partner_domains={"tees.org": [7]},
    )
    assert access.role == "partner" and access.partner_ids == frozenset({7}) and access.identity == "jo@tees.org"


def test_a_prime_user_sees_its_supply_chain():
    assert viewer("prime").partner_ids == frozenset({7, 8}) and viewer("prime").prime_ids == frozenset({"ING"})


def test_public_deployment_is_public_even_for_signed_in_members():
    access = decide(configured_mode=PUBLIC, auth_configured=True, user={**VERIFIED, "email": "admin@example.org"})
    assert access.public and not access.can_upload and not access.may_see_participants_of(7)


def test_local_run_without_sign_in_is_the_operator_with_every_detail():
    access = viewer("operator")
    assert access.role == OPERATOR and access.all_detail and access == operator("local")


def test_unknown_mode_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="use 'member' or 'public'"):
        decide(configured_mode="open", auth_configured=False, user=None)


@pytest.mark.parametrize(
    ("auth", "problems"),
    [
        (
            {"redirect_uri": "https://x/oauth2callback", "cookie_secret": "s", "client_id": "c",
             "client_secret": "c", "server_metadata_url": "https://idp/.well-known/openid-configuration"},
            [],
        ),
        ({"redirect_uri": "https://x/oauth2callback", "cookie_secret": "s", "google": {"client_id": "c"}},
         ["client_secret is missing from [auth.google]", "server_metadata_url is missing from [auth.google]"]),
        ({}, ["redirect_uri is missing", "cookie_secret is missing", "client_id is missing",
              "client_secret is missing", "server_metadata_url is missing"]),
        ("yes", ["[auth] is not a section"]),
    ],
)  # fmt: skip
def test_an_incomplete_auth_section_is_named_key_by_key(auth, problems):
    assert auth_problems(auth) == problems
