"""Publication modes and participant-level access, decided without any identity provider."""

from __future__ import annotations

import pytest

from dashboard.access import MEMBER, PUBLIC, decide

DOMAINS = {"tyneside.org": [7], "humber.org.uk": [9, 10]}


def test_local_run_without_sign_in_is_member_with_every_detail():
    access = decide(configured_mode="member", auth_configured=False, user=None)
    assert access.mode == MEMBER and access.may_see_participants_of(123) and access.can_upload


def test_public_deployment_is_public_even_for_signed_in_users():
    access = decide(configured_mode="public", auth_configured=True, user={"is_logged_in": True, "email": "a@b.org"})
    assert access.public and not access.can_upload and not access.may_see_participants_of(7)


def test_sign_in_configured_but_not_signed_in_is_public():
    access = decide(configured_mode="member", auth_configured=True, user={"is_logged_in": False})
    assert access.mode == PUBLIC and not access.can_upload


def test_partner_user_sees_only_their_own_participants():
    access = decide(
        configured_mode="member",
        auth_configured=True,
        partner_domains=DOMAINS,
        user={"is_logged_in": True, "email": "Jo@Tyneside.org"},
    )
    assert access.mode == MEMBER
    assert access.may_see_participants_of(7) and not access.may_see_participants_of(9)


def test_partner_claim_grants_several_partners():
    access = decide(
        configured_mode="member",
        auth_configured=True,
        user={"is_logged_in": True, "email": "x@elsewhere.org", "wpmi_partner_ids": "9,10"},
    )
    assert access.partner_ids == frozenset({9, 10})


def test_member_from_an_unknown_organisation_sees_aggregates_only():
    access = decide(
        configured_mode="member",
        auth_configured=True,
        partner_domains=DOMAINS,
        user={"is_logged_in": True, "email": "analyst@dwp.example"},
    )
    assert access.mode == MEMBER and access.partner_ids == frozenset() and not access.may_see_participants_of(7)


def test_administrator_sees_every_detail():
    access = decide(
        configured_mode="member",
        auth_configured=True,
        admins=frozenset({"admin@wpmi.org"}),
        user={"is_logged_in": True, "email": "ADMIN@wpmi.org"},
    )
    assert access.all_detail and access.may_see_participants_of(99)


def test_unknown_mode_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="use 'member' or 'public'"):
        decide(configured_mode="open", auth_configured=False, user=None)
