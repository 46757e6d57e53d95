"""Each kind of viewer through the real pages (AppTest with `at.user` and `at.secrets`): every forbidden write
is refused, changes nothing and is audited with the verified identity; every allowed one works; a sign-in
configuration that cannot be trusted stops the app with an error page and no data.

The world: "Tyneside Pathways Trust" (partner 1) and "Wear Valley Works" (partner 2), both on Ingeus's
CPA 5 contract; "Tees Roots Trust" (partner 3) on Avanta's CPA 5 contract.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from streamlit import config
from streamlit.testing.v1 import AppTest

from dashboard import members
from dashboard.access import decide, operator
from dashboard.db import writing
from loaders import service
from loaders.demo import writers
from loaders.organisation import register_partner
from tests.conftest import HEADER, ROOT, participants

AUTH = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not-a-real-secret",
        "client_id": "wpmi",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
    }
}
OTHER = {"partner": "Wear Valley Works", "prime": "Ingeus", "cpa": 5, "period": HEADER["period"]}
ELSEWHERE = {"partner": "Tees Roots Trust", "prime": "Avanta", "cpa": 5, "period": HEADER["period"]}
PEOPLE = {
    "partner": ("jo@tyneside.example", {"role": "partner", "partners": ["Tyneside Pathways Trust"]}),
    "prime": ("sam@ingeus.example", {"role": "prime", "primes": ["Ingeus"]}),
    "analyst": ("ali@vcs-network.example", {"role": "analyst"}),
    "admin": ("data@wpmi.example", {"role": "admin"}),
}


def signed_in(email: str, verified: bool = True) -> dict:
    return {"is_logged_in": True, "email": email, "email_verified": verified}


@pytest.fixture
def world(db_url, engine, tmp_path):
    """Three partners on two primes, one return each, and the registry of PEOPLE."""
    with writing(engine) as conn:
        register_partner(conn, OTHER["partner"], "vcs", "end_to_end")
        register_partner(conn, ELSEWHERE["partner"], "vcs", "end_to_end")
    sent = []
    for i, header in enumerate((HEADER, OTHER, ELSEWHERE)):
        path = writers.write_standard(tmp_path / f"return_{i}.xlsx", header, participants(3))
        sent.append(path)
    results = service.ingest_files(engine, [(p.name, p) for p in sent])
    assert [r.status for r in results] == ["loaded"] * 3
    for email, how in PEOPLE.values():
        service.add_member(engine, email, access=operator("test set-up"), **how)
    return {r.partner: r.submission_id for r in results}


def page(name: str, db_url: str, monkeypatch, user: dict | None, secrets: dict | None = None) -> AppTest:
    monkeypatch.setenv("WPMI_DB_URL", db_url)
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=120)
    at.secrets.update(AUTH if secrets is None else secrets)
    if user is not None:
        at.user = user
    return at.run()


def audit_rows(engine, action: str) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT actor, detail FROM audit_log WHERE action = :a"), {"a": action}).all()


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="uploads").upload(name, data, "application/octet-stream").run()
    return at.button(key="up_go").click().run()


def reports(at: AppTest) -> str:
    """The problem reports the Data page shows (one table per file)."""
    return " ".join(df.value.to_csv() for df in at.dataframe)


def current(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(text("SELECT file_name, status FROM submission ORDER BY submission_id")).all()


@pytest.mark.parametrize(
    ("who", "header", "allowed"),
    [
        ("partner", HEADER, True),  # its own partner
        ("partner", OTHER, False),  # another partner on the same prime's contract
        ("prime", OTHER, True),  # a partner on its own contract
        ("prime", ELSEWHERE, False),  # another prime's contract
        ("admin", ELSEWHERE, True),
    ],
)
def test_an_upload_is_allowed_only_for_the_senders_own_organisation(
    who, header, allowed, world, db_url, engine, monkeypatch, tmp_path
):
    email = PEOPLE[who][0]
    data = writers.write_standard(tmp_path / "new.xlsx", header, participants(4)).read_bytes()
    before = current(engine)
    at = upload(page("data", db_url, monkeypatch, signed_in(email)), "new.xlsx", data)
    assert not at.exception, [e.value for e in at.exception]
    if allowed:
        assert any("new.xlsx" in s.value and "loaded" in s.value for s in at.success)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT loaded_by FROM submission WHERE file_name = 'new.xlsx'")).scalar() == email
    else:
        assert any("new.xlsx" in e.value and "rejected" in e.value for e in at.error)
        assert "may not upload for another organisation" in reports(at)
        assert current(engine) == before  # nothing written, nothing superseded
        refusal = (
            f"new.xlsx: not loaded: {email} ({who}) may not upload for another organisation's partner or contract. "
            "Nothing was written; the refusal is in the audit log."
        )
        assert (email, refusal) in audit_rows(engine, "refused")


def test_registering_a_new_partner_from_the_data_page_is_for_administrators_only(
    world, db_url, engine, monkeypatch, tmp_path
):
    new = {**HEADER, "partner": "Brand New Partnership"}
    data = writers.write_standard(tmp_path / "brand.xlsx", new, participants(2)).read_bytes()
    at = page("data", db_url, monkeypatch, signed_in(PEOPLE["prime"][0]))
    at.checkbox(key="up_register").check()
    upload(at, "brand.xlsx", data)
    assert "may not register a new partner" in reports(at)
    with engine.connect() as conn:
        assert not conn.execute(text("SELECT 1 FROM partner WHERE partner_name = 'Brand New Partnership'")).first()


@pytest.mark.parametrize(
    ("who", "partner", "allowed"),
    [
        ("partner", "Tyneside Pathways Trust", True),
        ("partner", "Wear Valley Works", False),
        ("prime", "Wear Valley Works", True),
        ("prime", "Tees Roots Trust", False),
        ("admin", "Tees Roots Trust", True),
    ],
)
def test_a_withdrawal_is_allowed_only_for_the_sender_its_prime_or_an_administrator(
    who, partner, allowed, world, db_url, engine, monkeypatch
):
    email, target = PEOPLE[who][0], world[partner]
    at = page("data", db_url, monkeypatch, signed_in(email))
    at.number_input(key="wd_id").set_value(target)
    at.text_input(key="wd_reason").input("sent twice")
    next(b for b in at.button if b.label == "Withdraw").click().run()
    with engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM submission WHERE submission_id = :s"), {"s": target}).scalar()
    if allowed:
        assert status == "withdrawn"
        assert any(a == email for a, _ in audit_rows(engine, "withdrawn"))
    else:
        assert status == "current"
        assert any("may not withdraw another organisation's submission" in e.value for e in at.error)
        assert any(a == email and "may not withdraw" in d for a, d in audit_rows(engine, "refused"))


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"is_logged_in": False}, None),  # anonymous
        (signed_in("someone@gmail.com"), "is not in wpmi's member registry"),  # unregistered
        (signed_in("jo@tyneside.example", verified=False), "did not confirm"),  # unverified, though registered
        (signed_in(PEOPLE["analyst"][0]), None),  # analyst: member aggregates, no uploads
    ],
)
def test_viewers_who_may_not_upload_get_no_upload_page_and_are_told_why(user, message, world, db_url, monkeypatch):
    at = page("data", db_url, monkeypatch, user)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.file_uploader and not at.number_input  # no upload, no withdrawal
    assert any("not available" in i.value for i in at.info)
    if message:
        assert any(message in w.value for w in at.sidebar.warning)


def test_an_administrator_changes_the_registry_and_the_change_is_audited(world, db_url, engine, monkeypatch):
    admin = PEOPLE["admin"][0]
    at = page("members", db_url, monkeypatch, signed_in(admin))
    at.text_input(key="mem_email").input("new.person@wear.example")
    at.selectbox(key="mem_role").set_value("partner")
    at.multiselect(key="mem_pa").set_value(["Wear Valley Works"])
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception, [e.value for e in at.exception]
    with engine.connect() as conn:
        assert [e.partner_id for e in members.entries_for(conn, "new.person@wear.example")] == [2]
    assert (admin, "new.person@wear.example as partner for partner 2") in audit_rows(engine, "member added")


@pytest.mark.parametrize("who", ["partner", "prime", "analyst"])
def test_only_an_administrator_may_change_the_registry(who, world, db_url, engine, monkeypatch):
    email = PEOPLE[who][0]
    at = page("members", db_url, monkeypatch, signed_in(email))
    assert any("Only a wpmi administrator" in i.value for i in at.info) and not at.dataframe
    # The page stopped; the write itself refuses too, whoever calls it.
    with engine.connect() as conn:
        entries = members.entries_for(conn, email)
    access = decide(configured_mode="member", auth_configured=True, user=signed_in(email), registry=entries)
    with pytest.raises(service.NotAuthorised, match="only an administrator may"):
        service.add_member(engine, "me@evil.example", access=access, role="admin")
    with engine.connect() as conn:
        assert members.entries_for(conn, "me@evil.example") == []
    assert any(a == email and "add me@evil.example" in d for a, d in audit_rows(engine, "refused"))


def test_participant_detail_is_for_the_partner_its_prime_and_administrators(world, db_url, engine, monkeypatch):
    """The sidebar names the role; the access each gets decides the detail (tests/test_access.py has the table)."""
    for who in ("partner", "prime", "analyst", "admin"):
        at = page("overview", db_url, monkeypatch, signed_in(PEOPLE[who][0]))
        assert not at.exception, [e.value for e in at.exception]
        assert any(f"({who})" in c.value for c in at.sidebar.caption), who


@pytest.fixture
def secrets_file(tmp_path):
    """Point Streamlit at a secrets file of the test's own, and put the real setting back afterwards."""
    from streamlit.runtime import secrets as secrets_module

    saved = config.get_option("secrets.files")
    path = tmp_path / "secrets.toml"
    config.set_option("secrets.files", [str(path)])
    secrets_module.secrets_singleton._secrets = None  # parsed again from the new file on the next read
    yield path
    config.set_option("secrets.files", saved)
    secrets_module.secrets_singleton._secrets = None


def test_a_secrets_file_that_does_not_parse_stops_the_app_and_shows_no_data(world, db_url, monkeypatch, secrets_file):
    secrets_file.write_text('[auth]\nredirect_uri = "http://localhost:8501/oauth2callback\ncookie_secret = "x"\n')
    for name in ("overview", "data", "partner"):
        at = page(name, db_url, monkeypatch, {"is_logged_in": False}, secrets={})
        assert not at.exception, [e.value for e in at.exception]
        assert any("The secrets file cannot be read" in e.value for e in at.error), name
        assert not at.dataframe and not at.metric and not at.file_uploader, name


def test_an_incomplete_auth_section_stops_the_app_and_names_what_is_missing(world, db_url, monkeypatch):
    at = page("overview", db_url, monkeypatch, {"is_logged_in": False}, secrets={"auth": {"cookie_secret": "x"}})
    assert any("redirect_uri is missing" in e.value for e in at.error)
    assert not at.dataframe and not at.metric


def test_local_mode_served_beyond_this_machine_stops_unless_the_setting_says_so(world, db_url, monkeypatch):
    saved = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = page("overview", db_url, monkeypatch, None, secrets={})
        assert any("local mode" in e.value and "WPMI_LOCAL_MODE_ON_NETWORK" in e.value for e in at.error)
        assert not at.dataframe and not at.metric
        monkeypatch.setenv("WPMI_LOCAL_MODE_ON_NETWORK", "true")
        at = page("overview", db_url, monkeypatch, None, secrets={})
        assert not at.error and at.metric
    finally:
        config.set_option("server.address", saved)


def test_local_mode_on_this_machine_says_so_on_every_page(world, db_url, monkeypatch):
    at = page("overview", db_url, monkeypatch, None, secrets={})
    assert any("served to this machine only" in c.value for c in at.sidebar.caption)


@pytest.mark.parametrize(
    ("who", "partners"),
    [
        ("partner", {"Tyneside Pathways Trust"}),
        ("prime", {"Tyneside Pathways Trust", "Wear Valley Works"}),
        ("admin", {"Tyneside Pathways Trust", "Wear Valley Works", "Tees Roots Trust"}),
    ],
)
def test_the_submission_history_shows_only_the_viewers_own_organisations_returns(
    who, partners, world, db_url, monkeypatch
):
    at = page("data", db_url, monkeypatch, signed_in(PEOPLE[who][0]))
    history = next(df.value for df in at.dataframe if "loaded_by" in df.value.columns)
    assert set(history["partner"]) == partners


def test_resending_a_withdrawn_return_restores_it_only_for_those_who_may_upload_it(
    world, db_url, engine, monkeypatch, tmp_path
):
    target = world["Wear Valley Works"]
    service.withdraw(engine, target, access=operator("test set-up"), reason="sent twice")
    data = (tmp_path / "return_1.xlsx").read_bytes()  # the very bytes that were withdrawn
    for who, restored in (("partner", False), ("prime", True)):
        at = upload(page("data", db_url, monkeypatch, signed_in(PEOPLE[who][0])), "return_1.xlsx", data)
        assert not at.exception, [e.value for e in at.exception]
        with engine.connect() as conn:
            status = conn.execute(text("SELECT status FROM submission WHERE submission_id = :s"), {"s": target})
            assert status.scalar() == ("current" if restored else "withdrawn"), who
    assert any(a == PEOPLE["partner"][0] and "may not upload" in d for a, d in audit_rows(engine, "refused"))
