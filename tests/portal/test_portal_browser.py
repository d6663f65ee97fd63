"""A real browser (Playwright driving Debian's Chromium) against a real Uvicorn server on loopback: an invited
principal investigator registers, signs in, writes and submits a proposal; a reviewer scores it; the
administrator allocates; the investigator sees the allocation and the schedule, uploads and downloads data.
Screenshots of the main pages are kept under out/screenshots/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from portal_helpers import PASSWORD, LiveServer, build_world, make_app

pytestmark = [pytest.mark.portal, pytest.mark.xdist_group("portal-live")]
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing (.ci/run installs Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(browser, base: str, email: str, password: str = PASSWORD):
    ctx = browser.new_context(base_url=base, accept_downloads=True)
    page = ctx.new_page()
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def test_partner_journey(browser, tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'b.db'}", tmp_path)
    w = build_world(app, tmp_path)
    call, org_c = w.ids["call"], w.orgs["C"]
    with LiveServer(app) as server:
        base = server.url
        # the administrator invites a principal investigator
        admin = sign_in(browser, base, "admin@example.org")
        admin.goto("/admin")
        admin.fill("form[action='/admin/invitations'] input[name=email]", "invited.pi@example.org")
        admin.select_option("select[name=role]", "pi")
        admin.select_option("select[name=organisation_id]", str(org_c.id))
        admin.click("form[action='/admin/invitations'] button")
        invite = admin.inner_text("#invite-url")
        assert "/register?token=" in invite
        shot(admin, "admin")

        # registration by invitation, then sign-in
        ctx = browser.new_context(base_url=base, accept_downloads=True)
        pi = ctx.new_page()
        pi.goto(invite)
        pi.fill("input[name=display_name]", "Invited investigator")
        pi.fill("input[name=password]", "a long browser password")
        pi.click("button[type=submit]")
        pi.wait_for_url("**/login?registered=1")
        shot(pi, "login")
        pi.fill("input[name=email]", "invited.pi@example.org")
        pi.fill("input[name=password]", "a long browser password")
        pi.click("button[type=submit]")
        pi.wait_for_url(base + "/")

        # a proposal: the form, a draft, submission
        pi.goto(f"/calls/{call}")
        shot(pi, "call")
        pi.click("text=Write a proposal")
        pi.fill("input[name=title]", "Radio quiet at the pole <b>bold?</b>")
        pi.fill("textarea[name=abstract]", "Dipoles unrolled by the rover.")
        pi.fill("textarea[name=payload]", "Four dipole antennas, 3 kg")
        pi.fill("textarea[name=resources]", "rover_hours = 6\nenergy_kwh = 2\ndata_gbit = 1")
        # the structured activity editor: a row typed with one run too many for its window; the live check
        # marks the row before anything is sent
        row = pi.locator("fieldset.activity").nth(0)
        row.locator("input[name=act_id]").fill("dipoles")
        row.locator("input[name=act_payload]").fill("dipoles")
        row.locator("input[name=act_duration]").fill("3h")
        row.locator("input[name=act_earliest]").fill("2035-06-12T00:00")
        row.locator("input[name=act_deadline]").fill("2035-06-15T00:00")
        row.locator("input[name=act_repeat_every]").fill("1d")
        row.locator("input[name=act_repeat_count]").fill("4")
        row.locator("input[name=act_power_w]").fill("200")
        row.locator("input[name=act_data_mbit]").fill("100")
        row.locator("input[name=act_resources][value$=':rover']").check()
        problem = row.locator(".row-problem")
        problem.wait_for(state="visible", timeout=20_000)
        assert "4 occurrence(s) of 3h every 1d do not fit" in problem.inner_text()
        assert "fits" not in pi.inner_text("#activity-check")
        # a second row added and removed again (the remaining row keeps its checkboxes' index)
        pi.click("#add-activity")
        assert pi.locator("fieldset.activity").count() == 2
        pi.locator("fieldset.activity").nth(1).locator("input[name=act_resources][value$=':arm']").check()
        assert pi.locator("fieldset.activity").nth(1).locator("input[value='1:arm']").is_checked()
        pi.locator("fieldset.activity").nth(1).locator(".remove-row").click()
        assert pi.locator("fieldset.activity").count() == 1
        pi.select_option("select[name=proprietary_months]", "6")
        shot(pi, "proposal-form-check")

        # saved anyway: refused on the same form, the problem next to the activities, nothing typed lost
        pi.click("text=Save draft")
        pi.wait_for_selector("#error-activities")
        assert "do not fit" in pi.inner_text("#error-activities")
        assert pi.input_value("input[name=title]") == "Radio quiet at the pole <b>bold?</b>"
        assert pi.input_value("fieldset.activity input[name=act_repeat_count]") == "4"
        assert pi.locator("fieldset.activity input[value='0:rover']").is_checked()
        assert pi.input_value("select[name=proprietary_months]") == "6"
        assert "Sign out" in pi.inner_text("header")  # still signed in
        shot(pi, "proposal-form-error")
        # fixed: two nights' runs; the live check agrees, then the draft is saved
        pi.fill("fieldset.activity input[name=act_repeat_count]", "2")
        pi.wait_for_selector("#activity-check.ok", timeout=20_000)
        assert pi.locator("fieldset.activity .row-problem").is_hidden()
        pi.click("text=Save draft")
        pi.wait_for_url("**/proposals/*")
        assert pi.inner_text("#status") == "draft"
        assert "<b>bold?</b>" in pi.inner_text("h1")  # shown as text, not markup
        pi.click("#submit-proposal")
        pi.wait_for_selector("#status:text('submitted')")
        proposal_url = pi.url
        shot(pi, "proposal")

        # the administrator assigns a reviewer (no conflict: the Review Panel Institute)
        admin.goto(proposal_url)
        admin.select_option("select[name=reviewer_id]", str(w.users["reviewer"].id))
        admin.click("form[action$='/reviewers'] button")
        admin.wait_for_selector("text=score pending")

        # the reviewer scores it
        reviewer = sign_in(browser, base, "reviewer@example.org")
        reviewer.goto("/reviews")
        assert "Radio quiet at the pole" in reviewer.inner_text("table")
        # reviews still to score come first: the one assigned above is this journey's proposal's
        reviewer.click("#review-list a:has-text('Radio quiet at the pole')")
        reviewer.wait_for_url("**/reviews/*")
        reviewer.select_option("select[name=score]", "5")
        reviewer.fill("textarea[name=comment]", "Clear plan; the rover time is well argued.")
        reviewer.click("text=Save review")
        reviewer.wait_for_selector("select[name=score] option[value='5'][selected]", state="attached")
        shot(reviewer, "review")

        # ranking, oversubscription and the allocation
        admin.goto(f"/calls/{call}")
        assert "Radio quiet at the pole" in admin.inner_text("#ranking")
        shot(admin, "call-ranking")
        admin.goto(proposal_url)
        admin.select_option("select[name=key]", "rover_hours")
        admin.fill("input[name=amount]", "6")
        admin.click("form[action$='/allocations'] button")
        admin.wait_for_selector("#allocations >> text=rover_hours")

        # the investigator sees the allocation and the schedule, uploads and downloads data
        pi.goto(proposal_url)
        assert "rover_hours" in pi.inner_text("#allocations") and pi.inner_text("#status") == "accepted"
        pi.goto(f"/calls/{call}/schedule")
        # the planner runs in the background: the page shows the requested windows and refreshes itself until
        # the plan is done (a cold twin takes 20-40 s on two cores, more on a loaded machine)
        pi.wait_for_selector("#schedule[data-pending='false']", timeout=240_000)
        rows = pi.inner_text("#schedule")
        assert "dipoles" in rows and "every 1d" in rows and "a-1" not in rows  # only their own activities
        # the planner placed both nights' runs (Earth in view from 11 June 2035, so their data can come down)
        assert "planned (#1)" in rows and "planned (#2)" in rows
        shot(pi, "schedule")
        data_file = tmp_path / "spectrum.csv"
        data_file.write_text("freq_mhz,power_db\n1.0,-120\n")
        pi.goto(proposal_url)
        pi.set_input_files("input[type=file]", str(data_file))
        pi.click("form[action$='/data'] button")
        pi.wait_for_selector("#products >> text=spectrum.csv")
        with pi.expect_download() as dl:
            pi.click("#products >> text=spectrum.csv")
        assert Path(dl.value.path()).read_text() == "freq_mhz,power_db\n1.0,-120\n"
        pi.goto("/data")
        shot(pi, "data")

        # another partner's investigator cannot open the proprietary file or the proposal
        other = sign_in(browser, base, "pi_a@example.org")
        resp = other.goto(proposal_url)
        assert resp.status == 404
        assert "spectrum.csv" not in other.content()

        # the station status page draws its Plotly charts
        pi.goto("/status")
        pi.wait_for_selector("#fig-station .main-svg", timeout=60_000)
        # three charts on one time axis: zooming the top one moves the bottom one too
        assert (
            pi.locator("#fig-station .subplot.xy, #fig-station .subplot.x2y2, #fig-station .subplot.x3y3").count() == 3
        )
        assert pi.evaluate("document.getElementById('fig-station')._fullLayout.xaxis.matches") == "x3"
        shot(pi, "status")
    for name in (
        "login",
        "call",
        "proposal-form-error",
        "proposal",
        "review",
        "call-ranking",
        "schedule",
        "data",
        "status",
    ):
        assert (SHOTS / f"{name}.png").stat().st_size > 5000
