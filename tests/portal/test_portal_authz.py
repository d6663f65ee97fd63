"""The authorisation matrix: every role against every endpoint and page, and guessed URLs. No partner reads
another's draft, review or proprietary data, by API, by page or by guessing ids; refusals of hidden things look
exactly like missing things (404)."""

from __future__ import annotations

import pytest
from portal_helpers import api_client, api_routes, csrf_of, page_client

pytestmark = pytest.mark.portal

ROLES = ["anon", "member_a", "pi_a", "pi_b", "pi_c", "member_c", "reviewer", "reviewer_b", "operator", "admin"]
SIGNED = ROLES[1:]
A_SIDE = {"member_a", "pi_a"}  # the proposing organisation
A_VIEW = A_SIDE | {"pi_b", "reviewer", "operator", "admin"}  # pi_b: co-investigator; reviewer: assigned
A_DATA = A_SIDE | {"pi_b", "operator", "admin"}


def expect(ok: set[str], ok_code: int, denied: int = 404, anon: int = 401) -> dict[str, int]:
    return {r: anon if r == "anon" else (ok_code if r in ok else denied) for r in ROLES}


def api_matrix(ids, reviewers):
    """(method, route template, concrete path, json body, {role: status}). Actions reserved to a role answer
    403 to every other role whatever the id (so they reveal nothing); hidden things answer 404."""
    call, draft, sub, cd, rev, data = (ids[k] for k in ("call", "draft", "submitted", "c_draft", "review", "data"))
    new_call = {
        "title": "t",
        "cycle_start": "2035-09-01T00:00",
        "cycle_end": "2035-10-01T00:00",
        "deadline": "2035-08-01T00:00",
        "resources": [{"key": "energy_kwh", "quantity": 1}],
    }
    proposal = {"call_id": call, "title": "p", "resources": {"rover_hours": 1}}
    return [
        ("GET", "/api/me", "/api/me", None, expect(set(SIGNED), 200)),
        ("GET", "/api/organisations", "/api/organisations", None, expect(set(SIGNED), 200)),
        (
            "POST",
            "/api/organisations",
            "/api/organisations",
            {"name": "N", "country": "X"},
            expect({"admin"}, 201, 403),
        ),
        ("GET", "/api/reviewers", "/api/reviewers", None, expect({"admin"}, 200, 403)),
        ("GET", "/api/users", "/api/users", None, expect({"admin"}, 200, 403)),
        ("GET", "/api/invitations", "/api/invitations", None, expect({"admin"}, 200, 403)),
        (
            "POST",
            "/api/invitations",
            "/api/invitations",
            {"email": "z@example.org", "role": "pi", "organisation_id": 1},
            expect({"admin"}, 201, 403),
        ),
        ("GET", "/api/calls", "/api/calls", None, expect(set(SIGNED), 200)),
        ("POST", "/api/calls", "/api/calls", new_call, expect({"admin"}, 201, 403)),
        ("GET", "/api/calls/{call_id}", f"/api/calls/{call}", None, expect(set(SIGNED), 200)),
        (
            "GET",
            "/api/calls/{call_id}/oversubscription",
            f"/api/calls/{call}/oversubscription",
            None,
            expect(set(SIGNED), 200),
        ),
        ("GET", "/api/calls/{call_id}/ranking", f"/api/calls/{call}/ranking", None, expect({"admin"}, 200, 403)),
        ("GET", "/api/calls/{call_id}/schedule", f"/api/calls/{call}/schedule", None, expect(set(SIGNED), 200)),
        ("GET", "/api/proposals", "/api/proposals", None, expect(set(SIGNED), 200)),
        ("POST", "/api/proposals", "/api/proposals", proposal, expect({"pi_a", "pi_b", "pi_c"}, 201, 403)),
        ("GET", "/api/proposals/{proposal_id}", f"/api/proposals/{draft}", None, expect(A_SIDE, 200)),
        ("GET", "/api/proposals/{proposal_id}", f"/api/proposals/{sub}", None, expect(A_VIEW, 200)),
        ("GET", "/api/proposals/{proposal_id}", f"/api/proposals/{cd}", None, expect({"pi_c", "member_c"}, 200)),
        (
            "PUT",
            "/api/proposals/{proposal_id}",
            f"/api/proposals/{draft}",
            {"title": "edited", "resources": {"arm_hours": 1}},
            {**expect({"pi_a"}, 200), "member_a": 403},
        ),
        (
            "POST",
            "/api/proposals/{proposal_id}/submit",
            f"/api/proposals/{cd}/submit",
            None,
            {**expect({"pi_c"}, 200), "member_c": 403},
        ),
        (
            "POST",
            "/api/proposals/{proposal_id}/reviewers",
            f"/api/proposals/{sub}/reviewers",
            {"reviewer_id": reviewers["reviewer"]},
            {**expect(set(), 0, 403), "admin": 409},
        ),
        ("GET", "/api/proposals/{proposal_id}/reviews", f"/api/proposals/{sub}/reviews", None, expect(A_VIEW, 200)),
        (
            "POST",
            "/api/proposals/{proposal_id}/allocations",
            f"/api/proposals/{sub}/allocations",
            {"key": "arm_hours", "amount": 1},
            {**expect(set(), 0, 403), "admin": 201},
        ),
        (
            "GET",
            "/api/proposals/{proposal_id}/allocations",
            f"/api/proposals/{sub}/allocations",
            None,
            expect(A_VIEW, 200),
        ),
        (
            "POST",
            "/api/proposals/{proposal_id}/reject",
            f"/api/proposals/{sub}/reject",
            None,
            {**expect(set(), 0, 403), "admin": 409},
        ),
        (
            "POST",
            "/api/proposals/{proposal_id}/data",
            f"/api/proposals/{sub}/data",
            "FILE",
            {**expect(A_DATA, 201), "reviewer": 403},
        ),
        ("GET", "/api/reviews", "/api/reviews", None, expect(set(SIGNED), 200)),
        ("GET", "/api/reviews/{review_id}", f"/api/reviews/{rev}", None, expect({"reviewer", "admin"}, 200)),
        (
            "PUT",
            "/api/reviews/{review_id}",
            f"/api/reviews/{rev}",
            {"score": 3},
            {**expect(set(), 404), "reviewer": 409, "admin": 403},
        ),
        ("GET", "/api/data", "/api/data", None, expect(set(SIGNED), 200)),
        ("GET", "/api/data/{product_id}", f"/api/data/{data}", None, expect(A_DATA, 200)),
        ("GET", "/api/stac", "/api/stac", None, expect(set(SIGNED), 200)),
        # the world's product is proprietary: no one, not even its partner or staff, finds it in the public catalogue
        ("GET", "/api/stac/items/{product_id}", f"/api/stac/items/{data}", None, expect(set(), 404)),
        ("GET", "/api/audit", "/api/audit", None, expect({"admin"}, 200, 403)),
    ]


#: Covered elsewhere: public sign-in/registration, token and password changes (test_portal_flow), the twin-backed
#: status and the twin data product (test_portal_status).
API_ELSEWHERE = {
    ("POST", "/api/proposals/{proposal_id}/data/twin"),
    ("POST", "/api/auth/token"),
    ("DELETE", "/api/auth/token"),
    ("POST", "/api/me/password"),
    ("POST", "/api/register"),
    ("GET", "/api/status"),
    # disabling ends the user's tokens: these are checked role by role in test_portal_admin
    ("POST", "/api/users/{user_id}/disable"),
    ("POST", "/api/users/{user_id}/enable"),
    ("DELETE", "/api/invitations/{invitation_id}"),
}


def page_matrix(ids):
    call, draft, sub, cd, rev, data = (ids[k] for k in ("call", "draft", "submitted", "c_draft", "review", "data"))
    signed = expect(set(SIGNED), 200, anon=303)
    return [
        ("GET", "/", "/", signed),
        ("GET", "/calls", "/calls", signed),
        ("GET", "/calls/{call_id}", f"/calls/{call}", signed),
        ("GET", "/calls/{call_id}/schedule", f"/calls/{call}/schedule", signed),
        ("GET", "/proposals", "/proposals", signed),
        ("GET", "/proposals/new", f"/proposals/new?call_id={call}", signed),
        ("GET", "/proposals/{proposal_id}", f"/proposals/{draft}", expect(A_SIDE, 200, anon=303)),
        ("GET", "/proposals/{proposal_id}", f"/proposals/{sub}", expect(A_VIEW, 200, anon=303)),
        ("GET", "/proposals/{proposal_id}", f"/proposals/{cd}", expect({"pi_c", "member_c"}, 200, anon=303)),
        (
            "GET",
            "/proposals/{proposal_id}/edit",
            f"/proposals/{draft}/edit",
            {**expect({"pi_a"}, 200, anon=303), "member_a": 403},
        ),
        ("GET", "/reviews", "/reviews", signed),
        ("GET", "/reviews/{review_id}", f"/reviews/{rev}", expect({"reviewer", "admin"}, 200, anon=303)),
        ("GET", "/data", "/data", signed),
        ("GET", "/data/{product_id}", f"/data/{data}", expect(A_DATA, 200, anon=303)),
        ("GET", "/account", "/account", signed),
        ("GET", "/admin", "/admin", expect({"admin"}, 200, 403, anon=303)),
        ("GET", "/audit", "/audit", expect({"admin"}, 200, 403, anon=303)),
    ]


#: Form posts are checked in test_page_posts below and in test_portal_flow / test_portal_hostile; public pages and
#: the plotly.js asset need no sign-in.
PAGE_ELSEWHERE = {
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/register"),
    ("POST", "/register"),
    ("POST", "/logout"),
    ("POST", "/account/password"),
    ("GET", "/status"),
    ("GET", "/static/plotly.min.js"),
    ("POST", "/admin/organisations"),
    ("POST", "/admin/invitations"),
    ("POST", "/admin/calls"),
    ("POST", "/proposals"),
    ("POST", "/proposals/{proposal_id}/edit"),
    ("POST", "/proposals/{proposal_id}/submit"),
    ("POST", "/proposals/{proposal_id}/reviewers"),
    ("POST", "/proposals/{proposal_id}/allocations"),
    ("POST", "/proposals/{proposal_id}/reject"),
    ("POST", "/proposals/{proposal_id}/data"),
    ("POST", "/reviews/{review_id}"),
    ("POST", "/proposals/{proposal_id}/data/twin"),
    ("GET", "/api/docs"),  # public, like the schema it shows (test_portal_admin)
    ("POST", "/admin/users/{user_id}/active"),
    ("POST", "/admin/invitations/{invitation_id}/revoke"),
    ("POST", "/proposals/check"),  # the editor's live check, stores nothing: test_portal_form, and anonymous below
}


def routes_of(app) -> set[tuple[str, str]]:
    out = {(m, r.path) for r in api_routes(app) for m in r.methods - {"HEAD"}}
    assert len(out) > 50, out  # the walk found the routes (the portal has about 90)
    return out


def emails(role: str) -> str | None:
    return None if role == "anon" else f"{role}@example.org"


def test_live_form_check_needs_a_signed_in_user(world):
    r = page_client(world.app).post("/proposals/check", data={"call_id": str(world.ids["call"])})
    assert r.status_code == 303 and r.headers["location"].startswith("/login"), r.status_code


def test_matrix_covers_every_route(world):
    ids = world.ids
    covered = {(m, t) for m, t, *_ in api_matrix(ids, {"reviewer": 1})} | API_ELSEWHERE
    covered |= {(m, t) for m, t, *_ in page_matrix(ids)} | PAGE_ELSEWHERE
    assert routes_of(world.app) - covered == set()


def test_api_matrix(world):
    app = world.app
    clients = {r: api_client(app, emails(r)) for r in ROLES}
    reviewers = {u.email.split("@")[0]: u.id for u in world.users.values()}
    failures = []
    for method, _template, path, body, codes in api_matrix(world.ids, reviewers):
        # denied roles first: an allowed call may change state (submit, allocate)
        for role in sorted(ROLES, key=lambda r: codes[r] < 300):
            c = clients[role]
            if body == "FILE":
                r = c.request(method, path, files={"file": ("d.csv", b"a,b\n1,2\n", "text/csv")})
            else:
                r = c.request(method, path, json=body)
            got = r.status_code
            if got == 202 and codes[role] == 200 and path.endswith("/schedule"):
                got = 200  # granted, the planner still at work (the requested windows meanwhile)
            if got != codes[role]:
                failures.append(f"{role:10s} {method} {path}: {r.status_code}, expected {codes[role]} {r.text[:80]}")
    assert not failures, "\n".join(failures)


def test_lists_are_filtered(world):
    """Listing endpoints answer everyone, but only with what each may see."""
    app, ids = world.app, world.ids
    for role in SIGNED:
        c = api_client(app, emails(role))
        seen = {p["id"] for p in c.get("/api/proposals").json()}
        allowed = {
            pid
            for pid, who in ((ids["draft"], A_SIDE), (ids["submitted"], A_VIEW), (ids["c_draft"], {"pi_c", "member_c"}))
            if role in who
        }
        assert seen == allowed, role
        reviews = {r["id"] for r in c.get("/api/reviews").json()}
        assert reviews == ({ids["review"]} if role in ("reviewer", "admin") else set()), role
        if role in A_VIEW - {"reviewer", "admin"}:  # may see the proposal, never its reviews
            assert c.get(f"/api/proposals/{ids['submitted']}/reviews").json() == [], role
        data = {d["id"] for d in c.get("/api/data").json()}
        assert data == ({ids["data"]} if role in A_DATA else set()), role
        sched = {a["request_id"] for a in c.get(f"/api/calls/{ids['call']}/schedule").json()}
        assert sched == ({"a-1"} if role in A_SIDE | {"pi_b", "operator", "admin"} else set()), role
        page = page_client(app, emails(role)).get("/proposals").text
        assert ("A&#39;s secret draft" in page) == (role in A_SIDE), role
        assert ("C&#39;s draft" in page) == (role in {"pi_c", "member_c"}), role


def test_page_matrix(world):
    app = world.app
    clients = {r: page_client(app, emails(r)) for r in ROLES}
    failures = []
    for method, _template, path, codes in page_matrix(world.ids):
        for role in ROLES:
            r = clients[role].request(method, path)
            if r.status_code != codes[role]:
                failures.append(f"{role:10s} {method} {path}: {r.status_code}, expected {codes[role]}")
            if codes[role] == 303:
                assert r.headers["location"].startswith("/login")
    assert not failures, "\n".join(failures)


def test_page_posts(world):
    """Form posts with a valid CSRF token of the poster's own session: the same rules as the API."""
    app, ids = world.app, world.ids
    sub, draft, rev = ids["submitted"], ids["draft"], ids["review"]
    posts = [
        (f"/proposals/{draft}/submit", {}, {"pi_c": 404, "member_a": 403, "reviewer": 404, "admin": 404, "pi_a": 303}),
        (
            f"/proposals/{sub}/allocations",
            {"key": "arm_hours", "amount": "1"},
            {"pi_a": 403, "pi_c": 403, "operator": 403, "admin": 303},
        ),
        (
            f"/proposals/{sub}/reviewers",
            {"reviewer_id": str(world.users["reviewer_b"].id)},
            {"pi_a": 403, "pi_c": 403, "admin": 409},
        ),
        (f"/reviews/{rev}", {"score": "3"}, {"pi_a": 404, "reviewer_b": 404, "admin": 403, "reviewer": 409}),
        ("/admin/organisations", {"name": "Q", "country": "Z"}, {"pi_a": 403, "operator": 403, "admin": 303}),
        (f"/proposals/{sub}/data", "FILE", {"pi_c": 404, "reviewer": 403, "pi_b": 303}),
    ]
    for path, data, codes in posts:
        for role, code in codes.items():
            c = page_client(app, emails(role))
            token = csrf_of(c.get("/account").text)
            if data == "FILE":
                r = c.post(path, data={"csrf_token": token}, files={"file": ("x.txt", b"hi", "text/plain")})
            else:
                r = c.post(path, data={"csrf_token": token, **data})
            assert r.status_code == code, (role, path, r.status_code, r.text[:200])


@pytest.mark.parametrize("role", ["pi_c", "member_c", "reviewer_b"])
def test_guessed_urls_reveal_nothing(world, role):
    """Walking ids 1..12 (the world holds fewer of each): what is hidden answers exactly like what is missing."""
    api = api_client(world.app, emails(role))
    page = page_client(world.app, emails(role))
    visible = {"pi_c": {("p", world.ids["c_draft"])}, "member_c": {("p", world.ids["c_draft"])}, "reviewer_b": set()}[
        role
    ]
    for i in range(1, 13):
        for kind, url in (
            ("p", f"/api/proposals/{i}"),
            ("r", f"/api/reviews/{i}"),
            ("d", f"/api/data/{i}"),
            ("p", f"/api/proposals/{i}/allocations"),
            ("p", f"/api/proposals/{i}/reviews"),
        ):
            r = api.get(url)
            if (kind, i) in visible:
                assert r.status_code == 200
            else:
                assert r.status_code == 404, url
                missing = api.get(url.replace(f"/{i}", "/999999", 1)).json()["detail"]
                assert r.json()["detail"] == missing.replace("999999", str(i))
        for kind, url in (("p", f"/proposals/{i}"), ("r", f"/reviews/{i}"), ("d", f"/data/{i}")):
            r = page.get(url)
            assert r.status_code == (200 if (kind, i) in visible else 404), url
            assert "secret draft" not in r.text and "sound plan" not in r.text
