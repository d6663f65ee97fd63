"""The portal's pages as a partner reads them: every page titled by what it shows (distinct titles, the object's
name on an object's page), lists in a sensible order, empty lists that say so, sizes and times people can read, and
an address with no page answered by a titled page rather than JSON."""

from __future__ import annotations

import html
import re

import pytest
from portal_helpers import api_routes, build_world, make_app, page_client

pytestmark = [pytest.mark.portal]

TITLE = re.compile(r"<title>(.*?) · ILRS partner portal</title>", re.S)
H1 = re.compile(r"<h1>(.*?)</h1>", re.S)


def _title(text: str) -> str:
    m, h = TITLE.search(text), H1.search(text)
    assert m and h, "no <title> or <h1> in the page"
    assert m.group(1) == h.group(1), (m.group(1), h.group(1))  # the tab and the heading say the same
    return html.unescape(m.group(1))


def _page_routes(app) -> set[str]:
    """Every GET route that answers with an HTML page (not the API, static files or a file download)."""
    from fastapi.responses import HTMLResponse

    return {
        r.path
        for r in api_routes(app)
        if "GET" in r.methods and r.response_class is HTMLResponse and not r.path.startswith(("/api", "/static"))
    }


@pytest.fixture
def sqlite_world(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path)
    yield build_world(app, tmp_path)
    app.state.engine.dispose()


def test_every_page_has_a_title_of_its_own(sqlite_world):
    w = sqlite_world
    ids = w.ids
    call, draft, submitted = "Cycle 2035-A", "A's secret draft", "A's seismic network"
    # route -> (who visits, the address, a name the title must contain)
    visits = {
        "/login": (None, "/login", "Sign in"),
        "/register": (None, "/register", "Register"),
        "/": ("pi_a", "/", "Home"),
        "/account": ("pi_a", "/account", "account"),
        "/calls": ("pi_a", "/calls", "Calls"),
        "/calls/{call_id}": ("pi_a", f"/calls/{ids['call']}", call),
        "/calls/{call_id}/schedule": ("pi_a", f"/calls/{ids['call']}/schedule", call),
        "/proposals": ("pi_a", "/proposals", "Proposals"),
        "/proposals/new": ("pi_a", f"/proposals/new?call_id={ids['call']}", call),
        "/proposals/{proposal_id}": ("pi_a", f"/proposals/{ids['submitted']}", submitted),
        "/proposals/{proposal_id}/edit": ("pi_a", f"/proposals/{ids['draft']}/edit", draft),
        "/reviews": ("reviewer", "/reviews", "Reviews"),
        "/reviews/{review_id}": ("reviewer", f"/reviews/{ids['review']}", submitted),
        "/data": ("pi_a", "/data", "Data"),
        "/status": ("pi_a", "/status", "Station status"),
        "/admin": ("admin", "/admin", "Administration"),
        "/audit": ("admin", "/audit", "Audit log"),
    }
    # a page route added without being visited here fails this test
    assert _page_routes(w.app) == set(visits), _page_routes(w.app) ^ set(visits)
    titles: dict[str, str] = {}
    clients: dict = {}
    for route, (who, url, name) in visits.items():
        if who not in clients:
            clients[who] = page_client(w.app, w.users[who].email if who else None)
        r = clients[who].get(url)
        assert r.status_code == 200, (url, r.status_code)
        title = _title(r.text)
        assert name in title, (url, title)
        assert not title.islower(), (url, title)  # not a template's file name
        titles[route] = title
    repeated = {t for t in titles.values() if list(titles.values()).count(t) > 1}
    assert not repeated, {r: t for r, t in titles.items() if t in repeated}


def test_empty_lists_say_so(tmp_path):
    from ilrs.portal import actions

    app = make_app(f"sqlite:///{tmp_path / 'portal.db'}", tmp_path)
    with app.state.sessionmaker() as db:
        org = actions.create_organisation(db, None, "Lunar Geophysics Institute", "Pakistan")
        actions.create_user(db, None, "pi@example.org", "pi user", "correct horse battery", "pi", org.id)
        actions.create_user(db, None, "reviewer@example.org", "a reviewer", "correct horse battery", "reviewer", org.id)
    pi = page_client(app, "pi@example.org")
    for url, text in (
        ("/", "No calls yet."),
        ("/", "No proposals you can see yet."),
        ("/calls", "No calls yet."),
        ("/proposals", "No proposals you can see yet."),
        ("/data", "No data products you can download."),
    ):
        assert text in pi.get(url).text, (url, text)
    assert "No reviews assigned to you yet." in page_client(app, "reviewer@example.org").get("/reviews").text
    app.state.engine.dispose()


def test_lists_read_in_order_with_readable_sizes(sqlite_world):
    from ilrs.portal import actions

    w = sqlite_world
    with w.db() as db:
        settings = w.app.state.settings
        for name in ("first.csv", "second.csv"):
            actions.add_data_product(
                db,
                w.actor("pi_a"),
                w.ids["submitted"],
                name,
                b"x" * 1500,
                settings.upload_dir,
                settings.max_upload_bytes,
            )
        # a second reviewer from the review panel's organisation (reviewer_b's is a co-investigator's: refused)
        panel = actions.create_user(
            db, None, "reviewer_2@example.org", "second reviewer", "correct horse battery", "reviewer", w.orgs["R"].id
        )
        second = actions.assign_reviewer(db, w.actor("admin"), w.ids["submitted"], panel.id)
    text = page_client(w.app, "pi_a@example.org").get("/data").text
    rows = re.findall(r'<a href="/data/\d+">([^<]+)</a>', text)
    assert rows == ["second.csv", "first.csv", "seismic.csv"], rows  # the newest upload first
    assert "A&#39;s seismic network</a>" in text  # the proposal by its title, not its number
    assert "1.5 kB" in text and "8 B" in text, text  # 1500 bytes; the world's 8-byte seismic.csv
    # the review still to score comes before the scored one (the administrator sees both)
    text = page_client(w.app, "admin@example.org").get("/reviews").text
    assert text.index(f'/reviews/{second.id}"') < text.index(f'/reviews/{w.ids["review"]}"'), text


@pytest.mark.parametrize(
    ("n_bytes", "shown"),
    [(0, "0 B"), (999, "999 B"), (1000, "1 kB"), (1500, "1.5 kB"), (20 * 1024 * 1024, "21 MB"), (10**9, "1 GB")],
)
def test_readable_size(n_bytes, shown):
    from ilrs.portal.deps import readable_size

    # SI prefixes (1 kB = 1000 B), three significant digits: 20 MiB, the upload limit, is 20,971,520 B
    assert readable_size(n_bytes) == shown


def test_an_address_with_no_page_is_a_titled_page(sqlite_world):
    pi = page_client(sqlite_world.app, "pi_a@example.org")
    r = pi.get("/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert _title(r.text) == "Not found"
    assert "pi_a user" in r.text and ">Sign in<" not in r.text  # the navigation of the signed-in user
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    # the API keeps FastAPI's JSON answer
    api = pi.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
