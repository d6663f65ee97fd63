"""Administration and the smaller hardening of #16, on SQLite and PostgreSQL: disabling users (their tokens end
for good) and withdrawing invitations, password rules, uploads (quotas, no orphan file, private modes, one copy
of a repeated file), reviewers inside a partner organisation, co-investigator messages that enumerate nobody,
HSTS and no-store, and the first administrator of a fresh install (``ilrs portal create-admin``)."""

from __future__ import annotations

import stat

import pytest
from portal_helpers import PASSWORD, ROLES_OF, api_client, csrf_of, make_app, page_client

pytestmark = pytest.mark.portal


def test_disable_and_enable_users(world):
    app, users = world.app, world.users
    admin = api_client(app, "admin@example.org")
    victim_id = users["member_c"].id
    for role in ROLES_OF:
        if role in ("admin", "member_c"):
            continue
        c = api_client(app, f"{role}@example.org")
        for verb in ("disable", "enable"):
            assert c.post(f"/api/users/{victim_id}/{verb}").status_code == 403, role
    old = api_client(app, "member_c@example.org")
    page = page_client(app, "member_c@example.org")
    assert old.get("/api/me").status_code == 200
    r = admin.post(f"/api/users/{victim_id}/disable")
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert old.get("/api/me").status_code == 401 and page.get("/calls").status_code == 303
    assert (
        api_client(app)
        .post("/api/auth/token", json={"email": "member_c@example.org", "password": PASSWORD})
        .status_code
        == 422
    )
    assert admin.post(f"/api/users/{victim_id}/enable").json()["is_active"] is True
    # the old token and session stay revoked; a new sign-in works
    assert old.get("/api/me").status_code == 401 and page.get("/calls").status_code == 303
    assert api_client(app, "member_c@example.org").get("/api/me").status_code == 200
    assert admin.post(f"/api/users/{users['admin'].id}/disable").status_code == 409
    assert admin.post("/api/users/999999/disable").status_code == 404


def test_withdrawn_invitation_registers_nobody(world):
    app = world.app
    admin = api_client(app, "admin@example.org")
    inv = admin.post(
        "/api/invitations", json={"email": "late@example.org", "role": "pi", "organisation_id": world.orgs["C"].id}
    ).json()
    assert [i["email"] for i in admin.get("/api/invitations").json()] == ["late@example.org"]
    assert api_client(app, "pi_c@example.org").delete(f"/api/invitations/{inv['id']}").status_code == 403
    assert admin.delete(f"/api/invitations/{inv['id']}").status_code == 204
    r = api_client(app).post(
        "/api/register", json={"token": inv["token"], "display_name": "L", "password": "a long password"}
    )
    assert r.status_code == 422 and "withdrawn" in r.json()["detail"]
    # by page as well
    inv2 = admin.post(
        "/api/invitations", json={"email": "late2@example.org", "role": "pi", "organisation_id": world.orgs["C"].id}
    ).json()
    c = page_client(app, "admin@example.org")
    html = c.get("/admin").text
    assert "late2@example.org" in html
    r = c.post(f"/admin/invitations/{inv2['id']}/revoke", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 303
    r = api_client(app).post(
        "/api/register", json={"token": inv2["token"], "display_name": "L", "password": "a long password"}
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    "password", [" " * 10, "aaaaaaaaaaaa", "abababababab", "new.pi@example.org", "NEW.PI@example.org"]
)
def test_weak_passwords_refused(world, password):
    admin = api_client(world.app, "admin@example.org")
    inv = admin.post(
        "/api/invitations", json={"email": "new.pi@example.org", "role": "pi", "organisation_id": world.orgs["C"].id}
    ).json()
    r = api_client(world.app).post(
        "/api/register", json={"token": inv["token"], "display_name": "N", "password": password}
    )
    assert r.status_code == 422 and "password" in r.text


def test_uploads_quota_orphans_modes_and_repeats(database_url, tmp_path, monkeypatch):
    from portal_helpers import build_world

    app = make_app(database_url, tmp_path, quota_proposal_bytes=64, quota_proposal_files=3)
    try:
        w = build_world(app, tmp_path)  # holds one 8-byte file on the submitted proposal
        pi = api_client(app, "pi_a@example.org")
        url = f"/api/proposals/{w.ids['submitted']}/data"
        up = app.state.settings.upload_dir
        assert stat.S_IMODE(up.stat().st_mode) == 0o700
        assert {stat.S_IMODE(f.stat().st_mode) for f in up.iterdir()} == {0o600}
        if database_url.startswith("sqlite"):
            db_file = tmp_path / "portal.db"
            assert stat.S_IMODE(db_file.stat().st_mode) == 0o600
        # the same file twice: stored once
        first = pi.post(url, files={"file": ("a.csv", b"x,y\n1,2\n", "text/csv")}).json()
        again = pi.post(url, files={"file": ("a.csv", b"x,y\n1,2\n", "text/csv")}).json()
        assert first["id"] == again["id"] and len(list(up.iterdir())) == 2
        # quotas: files per proposal and bytes per proposal
        r = pi.post(url, files={"file": ("b.csv", b"z" * 60, "text/csv")})
        assert r.status_code == 409 and "quota" in r.json()["detail"]
        assert pi.post(url, files={"file": ("c.csv", b"c\n", "text/csv")}).status_code == 201
        r = pi.post(url, files={"file": ("d.csv", b"d\n", "text/csv")})
        assert r.status_code == 409 and "data products" in r.json()["detail"]
        files_before = set(up.iterdir())

        # a database write that fails leaves no file behind
        import ilrs.portal.actions as actions

        def broken_audit(*a, **k):
            raise RuntimeError("the database is gone")

        monkeypatch.setattr(actions, "audit", broken_audit)
        app.state.settings = __import__("dataclasses").replace(
            app.state.settings, quota_proposal_files=10, quota_proposal_bytes=10**6
        )
        from fastapi.testclient import TestClient

        raw = TestClient(app, raise_server_exceptions=False, headers=dict(pi.headers))
        assert raw.post(url, files={"file": ("e.csv", b"e\n", "text/csv")}).status_code == 500
        assert set(up.iterdir()) == files_before
    finally:
        app.state.engine.dispose()


def test_reviewer_inside_a_partner_organisation(world):
    """A reviewer invited into the proposing organisation reads neither its draft nor its proprietary data."""
    from ilrs.portal import actions

    with world.db() as db:
        actions.create_user(db, None, "inside@example.org", "insider", PASSWORD, "reviewer", world.orgs["A"].id)
    c = api_client(world.app, "inside@example.org")
    assert c.get(f"/api/proposals/{world.ids['draft']}").status_code == 404
    assert c.get(f"/api/data/{world.ids['data']}").status_code == 404
    assert world.ids["draft"] not in {p["id"] for p in c.get("/api/proposals").json()}


def test_coinvestigator_messages_enumerate_nobody(world):
    pi = api_client(world.app, "pi_c@example.org")
    answers = set()
    for email in ("nobody@example.org", "reviewer@example.org", "member_c@example.org", "admin@example.org"):
        r = pi.post("/api/proposals", json={"call_id": world.ids["call"], "title": "t", "coinvestigators": [email]})
        assert r.status_code == 422
        answers.add(r.json()["detail"].replace(email, "E"))
    assert len(answers) == 1, answers


def test_hsts_and_no_store_with_secure_cookies(database_url, tmp_path):
    app = make_app(database_url, tmp_path, secure_cookies=True)
    try:
        from fastapi.testclient import TestClient

        c = TestClient(app, base_url="https://testserver")
        r = c.get("/login")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "no-store" in r.headers["cache-control"]
        assert "no-store" in c.get("/api/openapi.json").headers.get("cache-control", "no-store")
        assert "no-store" not in c.get("/static/portal.css").headers.get("cache-control", "")
    finally:
        app.state.engine.dispose()
    app = make_app(database_url, tmp_path)
    try:
        from fastapi.testclient import TestClient

        r = TestClient(app).get("/login")
        assert "strict-transport-security" not in r.headers and "no-store" in r.headers["cache-control"]
    finally:
        app.state.engine.dispose()


@pytest.fixture
def fresh_install(tmp_path, monkeypatch):
    """The environment of a fresh install: its own cache folder and SQLite database."""
    import ilrs.config

    monkeypatch.setenv("ILRS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ILRS_DATABASE_URL", f"sqlite:///{tmp_path / 'cache' / 'prod.db'}")
    monkeypatch.setattr(ilrs.config, "_settings", None)
    return tmp_path / "cache" / "prod.db"


def test_create_admin_once(fresh_install):
    from typer.testing import CliRunner

    from ilrs.cli.main import app as cli
    from ilrs.portal.settings import PortalSettings

    runner = CliRunner()
    args = ["portal", "create-admin", "--email", "Chief@Station.example", "--password-stdin"]
    weak = runner.invoke(cli, args, input="chief@station.example\n")
    assert weak.exit_code == 3 and "e-mail" in weak.output
    ok = runner.invoke(cli, args, input="a strong first password\n")
    assert ok.exit_code == 0, ok.output
    assert stat.S_IMODE(fresh_install.stat().st_mode) == 0o600
    again = runner.invoke(cli, [*args[:3], "other@station.example", "--password-stdin"], input="another password!\n")
    assert again.exit_code == 3 and "exists already" in again.output
    app = make_app(PortalSettings.from_environment().database_url, fresh_install.parent)
    try:
        r = api_client(app).post(
            "/api/auth/token", json={"email": "chief@station.example", "password": "a strong first password"}
        )
        assert r.status_code == 200
        me = api_client(app)
        me.headers["Authorization"] = "Bearer " + r.json()["access_token"]
        assert me.get("/api/me").json()["role"] == "admin"
    finally:
        app.state.engine.dispose()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::", "portal.example.org"])
def test_demo_refused_off_loopback(fresh_install, host):
    from typer.testing import CliRunner

    from ilrs.cli.main import app as cli
    from ilrs.cli.serve import is_loopback

    r = CliRunner().invoke(cli, ["serve", "--demo", "--host", host])
    assert r.exit_code == 3 and "loopback" in r.output
    assert not fresh_install.exists()  # refused before anything was created
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")


def test_api_docs_served_locally_under_the_csp(app):
    from fastapi.testclient import TestClient

    c = TestClient(app)
    page = c.get("/api/docs")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text and "cdn" not in page.text.lower()  # no inline script, no network
    for asset in (
        "/static/swagger-ui/swagger-ui-bundle.js",
        "/static/swagger-ui/swagger-ui.css",
        "/static/api-docs.js",
    ):
        r = c.get(asset)
        assert r.status_code == 200 and len(r.content) > 100, asset
