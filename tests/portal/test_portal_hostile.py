"""Hostile input: oversized and wrongly typed uploads, script injection (escaped on output), SQL-like strings,
NUL bytes, forged cookies and forms, brute-force logins (rate limited). On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from portal_helpers import PASSWORD, api_client, build_world, csrf_of, make_app, page_client

pytestmark = pytest.mark.portal

SCRIPT = "<script>alert('x')</script>"
ATTR = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE proposals; --"


@pytest.fixture
def small_world(database_url, tmp_path):
    app = make_app(database_url, tmp_path, max_upload_bytes=4096)
    yield build_world(app, tmp_path)
    app.state.engine.dispose()


def test_oversized_uploads(small_world):
    w = small_world
    pi = api_client(w.app, "pi_a@example.org")
    url = f"/api/proposals/{w.ids['submitted']}/data"
    r = pi.post(url, files={"file": ("big.csv", b"a" * 5000, "text/csv")})
    assert r.status_code == 422 and "limit" in r.json()["detail"]
    # far beyond the limit: refused before the body is read, announced or not
    huge = b"x" * (4096 + 300 * 1024)
    r = pi.post(url, files={"file": ("huge.csv", huge, "text/csv")})
    assert r.status_code == 413

    def chunks():  # a well-formed multipart stream that never ends, with no length announced
        yield (
            b'--zzz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\nContent-Type: text/csv\r\n\r\n'
        )
        for _ in range(40):
            yield b"y" * 16384

    r = pi.post(url, content=chunks(), headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert r.status_code == 413
    assert pi.post(url, files={"file": ("ok.csv", b"a,b\n", "text/csv")}).status_code == 201


@pytest.mark.parametrize(
    ("name", "content", "ctype"),
    [
        ("payload.exe", b"MZ\x90\x00", "application/octet-stream"),
        ("page.html", b"<html><script>alert(1)</script>", "text/html"),
        ("fake.png", b"<svg onload=alert(1)>", "image/png"),
        ("fake.pdf", b"<html>", "application/pdf"),
        ("binary.csv", b"\x00\xff\xfe\xfd" * 100, "text/csv"),
        ("", b"abc", "text/plain"),
    ],
)
def test_wrongly_typed_uploads(world, name, content, ctype):
    pi = api_client(world.app, "pi_a@example.org")
    r = pi.post(f"/api/proposals/{world.ids['submitted']}/data", files={"file": (name, content, ctype)})
    assert r.status_code == 422, r.text


def test_downloads_are_attachments_with_declared_type(world):
    pi = api_client(world.app, "pi_a@example.org")
    r = pi.post(
        f"/api/proposals/{world.ids['submitted']}/data", files={"file": ("../../x<y>.txt", b"plain text", "text/html")}
    )
    assert r.status_code == 201 and r.json()["filename"] == "x_y_.txt"
    d = pi.get(f"/api/data/{r.json()['id']}")
    assert d.headers["content-type"].startswith("text/plain")
    assert d.headers["content-disposition"].startswith("attachment")
    assert d.headers["x-content-type-options"] == "nosniff"


def test_script_injection_is_escaped(world):
    app, ids = world.app, world.ids
    pi = api_client(app, "pi_c@example.org")
    r = pi.post(
        "/api/proposals",
        json={
            "call_id": ids["call"],
            "title": SCRIPT,
            "abstract": ATTR,
            "payload": SCRIPT,
            "resources": {"rover_hours": 1},
        },
    )
    assert r.status_code == 201
    pid = r.json()["id"]
    assert r.json()["title"] == SCRIPT  # stored verbatim, JSON is not HTML
    assert pi.post(f"/api/proposals/{pid}/submit").status_code == 200
    admin = api_client(app, "admin@example.org")
    rv = admin.post(f"/api/proposals/{pid}/reviewers", json={"reviewer_id": world.users["reviewer"].id}).json()
    api_client(app, "reviewer@example.org").put(f"/api/reviews/{rv['id']}", json={"score": 2, "comment": SCRIPT})
    org = admin.post("/api/organisations", json={"name": SCRIPT, "country": ATTR})
    assert org.status_code == 201
    pages = {
        "pi_c": [f"/proposals/{pid}", "/proposals", f"/calls/{ids['call']}", "/"],
        "admin": [f"/proposals/{pid}", f"/calls/{ids['call']}", "/admin", "/audit"],
        "reviewer": [f"/reviews/{rv['id']}", "/reviews"],
    }
    for who, urls in pages.items():
        c = page_client(app, f"{who}@example.org")
        for url in urls:
            html = c.get(url).text
            assert "<script>alert" not in html and "<img src=x" not in html, (who, url)
            if url != "/audit":  # the audit page shows details as JSON, where tojson writes < as \u003c
                assert "&lt;script&gt;" in html or "&lt;img" in html, (who, url)
    assert "default-src 'self'" in page_client(app, "pi_c@example.org").get("/").headers["content-security-policy"]


def test_sql_like_strings_are_data(world):
    app, ids = world.app, world.ids
    pi = api_client(app, "pi_c@example.org")
    r = pi.post(
        "/api/proposals",
        json={
            "call_id": ids["call"],
            "title": SQL,
            "abstract": "1' OR '1'='1",
            "resources": {"rover_hours": 1},
            "coinvestigators": [],
        },
    )
    assert r.status_code == 201
    assert pi.get(f"/api/proposals/{r.json()['id']}").json()["title"] == SQL
    bad = pi.post(
        "/api/proposals", json={"call_id": ids["call"], "title": "t", "resources": {"rover_hours' OR 1=1 --": 1}}
    )
    assert bad.status_code == 422
    assert (
        pi.post(
            "/api/proposals",
            json={
                "call_id": ids["call"],
                "title": "t",
                "resources": {"rover_hours": 1},
                "coinvestigators": ["x' OR '1'='1"],
            },
        ).status_code
        == 422
    )
    anon = api_client(app)
    r = anon.post("/api/auth/token", json={"email": "admin@example.org' --", "password": "' OR '1'='1"})
    assert r.status_code == 422
    assert len(pi.get("/api/proposals").json()) == 2  # C's draft and this one: the table is there


@pytest.mark.parametrize(
    "body",
    [
        {"call_id": 1, "title": "nul\x00byte", "resources": {"rover_hours": 1}},
        {"call_id": 2**40, "title": "t"},
        {"call_id": 1, "title": "t", "resources": {"rover_hours": "lots"}},
        '{"call_id": 1, "title": "t", "resources": {"rover_hours": 1e309}}',
        '{"call_id": 1, "title": "t", "resources": {"rover_hours": NaN}}',
        {"call_id": 1, "title": "t", "activities": "not a list"},
        {
            "call_id": 1,
            "title": "t",
            "activities": [
                {"id": "x", "partner": "y", "payload": "z", "duration": "-1h", "earliest": "yesterday", "deadline": 5}
            ],
        },
        {"call_id": 1, "title": "t", "proprietary_months": 7, "resources": {"rover_hours": 1}},
        {"call_id": 1, "title": "t", "unexpected": True},
    ],
)
def test_malformed_bodies_refused_not_crashing(world, body):
    c = api_client(world.app, "pi_c@example.org")
    if isinstance(body, str):  # JSON that Python's encoder would not write
        r = c.post("/api/proposals", content=body.encode(), headers={"content-type": "application/json"})
    else:
        r = c.post("/api/proposals", json=body)
    assert r.status_code == 422, r.text


def test_malformed_requests(world):
    c = api_client(world.app, "pi_c@example.org")
    assert (
        c.post("/api/proposals", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
    )
    assert c.get(f"/api/proposals/{2**63}").status_code == 422
    assert c.get("/api/proposals/-1").status_code == 422
    assert c.get("/api/proposals/abc").status_code == 422
    assert page_client(world.app, "pi_c@example.org").get("/proposals/99999999999999999999").status_code == 422


def test_brute_force_logins_rate_limited(world):
    anon = api_client(world.app)
    for _ in range(5):
        assert (
            anon.post("/api/auth/token", json={"email": "pi_a@example.org", "password": "guess-" * 3}).status_code
            == 422
        )
    # the right password no longer helps for this e-mail within the window
    r = anon.post("/api/auth/token", json={"email": "pi_a@example.org", "password": PASSWORD})
    assert r.status_code == 429
    # spraying many e-mails from one address is limited too
    codes = [
        anon.post("/api/auth/token", json={"email": f"u{i}@example.org", "password": "x" * 12}).status_code
        for i in range(20)
    ]
    assert codes[-1] == 429 and 429 in codes[:20]
    # the login page applies the same limit
    c = page_client(world.app)
    tok = csrf_of(c.get("/login").text)
    assert (
        c.post("/login", data={"email": "pi_a@example.org", "password": PASSWORD, "csrf_token": tok}).status_code == 429
    )


def test_forged_cookies_and_forms(world):
    app = world.app
    c = page_client(app, "pi_a@example.org")
    cookie = c.cookies.get("ilrs_session")
    assert cookie
    from fastapi.testclient import TestClient

    forged = TestClient(app, follow_redirects=False)
    forged.cookies.set("ilrs_session", cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert forged.get("/proposals").status_code == 303
    # a cross-site form (no token, or another session's token) is refused
    other = page_client(app, "pi_c@example.org")
    r = c.post(f"/proposals/{world.ids['draft']}/submit", data={"csrf_token": csrf_of(other.get("/").text)})
    assert r.status_code == 422 and "did not come from this site" in r.text
    fresh = TestClient(app, follow_redirects=False)
    r = fresh.post("/login", data={"email": "pi_a@example.org", "password": PASSWORD, "csrf_token": "x"})
    assert r.status_code == 422
    # the session cookie is HttpOnly and SameSite
    t = TestClient(app, follow_redirects=False)
    tok = csrf_of(t.get("/login").text)
    r = t.post("/login", data={"email": "pi_a@example.org", "password": PASSWORD, "csrf_token": tok})
    sc = r.headers["set-cookie"].lower()
    assert "httponly" in sc and "samesite=lax" in sc
    # open redirects after login are not followed
    t2 = TestClient(app, follow_redirects=False)
    tok = csrf_of(t2.get("/login").text)
    r = t2.post(
        "/login", data={"email": "pi_b@example.org", "password": PASSWORD, "csrf_token": tok, "next": "//evil.example/"}
    )
    assert r.headers["location"] == "/"


LONE = '"\\ud800"'  # a lone surrogate as JSON writes it (Python's encoder would refuse the raw character)


@pytest.mark.parametrize(
    ("who", "method", "url", "body"),
    [
        (None, "POST", "/api/auth/token", '{"email": ' + LONE + ', "password": "x"}'),
        (None, "POST", "/api/auth/token", '{"email": "a@b.org", "password": ' + LONE + "}"),
        (None, "POST", "/api/register", '{"token": ' + LONE + ', "display_name": "n", "password": "a long password"}'),
        ("pi_c", "POST", "/api/proposals", '{"call_id": 1, "title": ' + LONE + ', "resources": {"rover_hours": 1}}'),
        ("pi_c", "POST", "/api/proposals", '{"call_id": 1, "title": "t", "resources": {' + LONE + ": 1}}"),
        ("admin", "POST", "/api/organisations", '{"name": "n' + LONE[1:-1] + '", "country": "c"}'),
        ("admin", "POST", "/api/calls", None),
    ],
)
def test_odd_text_refused_not_crashing(world, who, method, url, body):
    """Lone surrogates anywhere in a body, signed in or not: 422, never a server error."""
    c = api_client(world.app, f"{who}@example.org" if who else None)
    if body is None:  # a call whose times are at the calendar's ends, with offsets
        for start in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
            r = c.post(
                url,
                json={"title": "t", "cycle_start": start, "cycle_end": start, "deadline": start, "resources": []},
            )
            assert r.status_code == 422, r.text
        return
    r = c.request(method, url, content=body.encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("when", ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:00"])
def test_activity_times_at_the_calendar_ends(world, when):
    c = api_client(world.app, "pi_c@example.org")
    act = {"id": "x", "partner": world.orgs["C"].name, "payload": "p", "duration": "1h", "earliest": when}
    act["deadline"] = when
    r = c.post("/api/proposals", json={"call_id": world.ids["call"], "title": "t", "activities": [act]})
    assert r.status_code == 422, r.text


def test_odd_form_input_refused_not_crashing(world):
    """The sign-in form with a NUL in the e-mail (PostgreSQL refuses NUL in text), other forms with lone
    surrogates (sent as UTF-8 surrogate bytes) and odd times: 422 pages, before and after sign-in."""
    anon = page_client(world.app)
    tok = csrf_of(anon.get("/login").text)
    r = anon.post("/login", data={"email": "pi_a@example.org\x00", "password": PASSWORD, "csrf_token": tok})
    assert r.status_code == 422
    r = anon.post(
        "/login",
        content=b"email=%ED%A0%80&password=x&csrf_token=" + tok.encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 422
    admin = page_client(world.app, "admin@example.org")
    tok = csrf_of(admin.get("/admin").text)
    for when in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"):
        r = admin.post("/admin/calls", data={"title": "t", "cycle_start": when, "csrf_token": tok})
        assert r.status_code == 422, r.text
    r = admin.post("/admin/organisations", data={"name": "a\x00b", "country": "c", "csrf_token": tok})
    assert r.status_code == 422


def test_server_errors_carry_the_security_headers(world, monkeypatch):
    from fastapi.testclient import TestClient

    import ilrs.portal.actions as actions

    def broken(*a, **k):
        raise RuntimeError("a bug")

    monkeypatch.setattr(actions, "list_calls", broken)
    c = TestClient(world.app, raise_server_exceptions=False)
    c.headers["Authorization"] = api_client(world.app, "pi_a@example.org").headers["Authorization"]
    for url in ("/api/calls",):
        r = c.get(url)
        assert r.status_code == 500 and "a bug" not in r.text
        assert r.headers["x-frame-options"] == "DENY" and "default-src" in r.headers["content-security-policy"]
    page = page_client(world.app, "pi_a@example.org")
    page2 = TestClient(world.app, raise_server_exceptions=False, cookies=page.cookies)
    r = page2.get("/calls")
    assert r.status_code == 500 and r.headers["x-content-type-options"] == "nosniff"
