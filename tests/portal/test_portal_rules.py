"""The portal's rules on their own: proposals against offers (through the planner's own parser), conflicts of
interest, ranking, allocation limits, uploads, proprietary periods, secrets."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ilrs.errors import IlrsError
from ilrs.operations.requests import parse_requests
from ilrs.portal import rules, security
from ilrs.portal.rules import OfferLine, ProposalAccess

pytestmark = pytest.mark.portal
OFFER = {
    o.key: o
    for o in (
        OfferLine("arm_hours", "arm", "h", 10),
        OfferLine("energy_kwh", "e", "kWh", 50),
        OfferLine("data_gbit", "d", "Gbit", 5),
    )
}
START, END = dt.datetime(2035, 6, 1), dt.datetime(2035, 7, 1)
TERMS = rules.CallTerms(OFFER, START, END)


def validate(requested, activities, months, people=None, submitting=False, **fields):
    """The portal's one proposal validator, for a proposal of organisation 1, "Org A"."""
    data = {"title": "t", "resources": requested, "activities": activities, "proprietary_months": months, **fields}
    return rules.validate_proposal(data, TERMS, "Org A", 1, people, submitting=submitting)


def act(**kw):
    base = {
        "id": "x1",
        "partner": "Org A",
        "payload": "cam",
        "duration": "2h",
        "earliest": "2035-06-02T00:00",
        "deadline": "2035-06-05T00:00",
        "resources": ["arm"],
        "power_w": 500.0,
        "data_mbit": 1000.0,
        "repeat_every": "1d",
        "repeat_count": 3,
    }
    base.update(kw)
    return base


def test_activity_usage_matches_hand_count():
    # 3 occurrences x 2 h on the arm at 500 W producing 1000 Mbit each: 6 h, 3 kWh, 3 Gbit
    use = rules.activity_usage(parse_requests({"requests": [act()]}))
    assert use == pytest.approx({"arm_hours": 6.0, "energy_kwh": 3.0, "data_gbit": 3.0})


def test_validate_proposal_accepts_consistent_request():
    rs = validate({"arm_hours": 6, "energy_kwh": 3, "data_gbit": 3}, [act()], 12).requests
    assert rs is not None and rs.requests[0].id == "x1"


@pytest.mark.parametrize(
    ("requested", "activities", "months", "needle"),
    [
        ({"rover_hours": 1}, None, 12, "does not offer 'rover_hours'"),
        ({"arm_hours": 11}, None, 12, "offers 10"),
        ({"arm_hours": -1}, None, 12, "positive"),
        ({"arm_hours": 1}, None, 9, "proprietary period"),
        ({"arm_hours": 5, "energy_kwh": 3, "data_gbit": 3}, [act()], 12, "use 6 of arm_hours"),
        ({"arm_hours": 6, "energy_kwh": 3, "data_gbit": 3}, [act(partner="Org B")], 12, "name another partner"),
        ({"arm_hours": 6, "energy_kwh": 3, "data_gbit": 3}, [act(earliest="2035-05-30T00:00")], 12, "outside"),
        ({"arm_hours": 6}, [act(duration="forever")], 12, "positive duration"),
        ({"arm_hours": 6}, [{"id": "x"}], 12, "Field required"),
        ({"arm_hours": 6}, {"requests": []}, 12, "JSON list"),
    ],
)
def test_validate_proposal_refuses(requested, activities, months, needle):
    with pytest.raises(rules.Invalid, match=needle):
        validate(requested, activities, months)


B_PI, B_REVIEWER, A_MEMBER = rules.Person("pi", 2), rules.Person("reviewer", 2), rules.Person("member", 1)


@pytest.mark.parametrize(
    ("fields", "people", "submitting", "needle"),
    [
        ({"title": "  "}, {}, False, "needs a title"),
        (
            {"coinvestigators": [" Nobody@Example.org"]},
            {},
            False,
            "'nobody@example.org' cannot be a co-investigator",
        ),
        # the same words whatever the reason: the message does not tell who has an account, nor where
        ({"coinvestigators": ["r@b.org"]}, {"r@b.org": B_REVIEWER}, False, "^coinvestigators: 'r@b.org' cannot be"),
        ({"coinvestigators": ["m@a.org"]}, {"m@a.org": A_MEMBER}, False, "^coinvestigators: 'm@a.org' cannot be"),
        ({"resources": {}}, {}, True, "at least one resource before it is submitted"),
    ],
)
def test_validate_proposal_refuses_title_coinvestigators_and_empty_submission(fields, people, submitting, needle):
    with pytest.raises(rules.Invalid, match=needle):
        validate({"arm_hours": 1}, None, 12, people, submitting, **fields)


def test_validate_proposal_returns_the_content_as_stored():
    c = validate(
        {"arm_hours": 6, "energy_kwh": 3, "data_gbit": 3},
        [act()],
        6,
        {"b@b.org": B_PI},
        title="  Seismic net  ",
        abstract="a" * 20001,
        coinvestigators=["B@b.org ", "b@b.org", ""],
    )
    assert (c.title, len(c.abstract), c.payload, c.proprietary_months) == ("Seismic net", 20000, "", 6)
    assert c.coinvestigators == ("b@b.org",) and c.requested == {"arm_hours": 6.0, "energy_kwh": 3.0, "data_gbit": 3.0}
    assert c.activities == [act()] and [r.id for r in c.requests.requests] == ["x1"]
    assert validate({"arm_hours": 1}, [], 12).activities is None


@pytest.mark.parametrize(
    ("title", "start", "end", "deadline", "offer", "needle"),
    [
        (" ", START, END, START, list(OFFER.values()), "needs a title"),
        ("c", END, START, START, list(OFFER.values()), "end after it starts"),
        ("c", START, END, END, list(OFFER.values()), "deadline must fall before"),
        ("c", START, END, START, [], "at least one resource"),
        ("c", START, END, START, [OFFER["arm_hours"]] * 2, "each key once"),
        ("c", START, END, START, [OfferLine("Energy kWh", "e", "kWh", 1)], "a key like 'energy_kwh'"),
        ("c", START, END, START, [OfferLine("energy_kwh", "e", "kWh", -1)], "non-negative quantity"),
    ],
)
def test_validate_call_refuses(title, start, end, deadline, offer, needle):
    with pytest.raises(rules.Invalid, match=needle):
        rules.validate_call(title, start, end, deadline, offer)


def test_rules_and_security_import_no_web_or_database():
    """The rules and the secrets stay pure: importing them loads neither the web framework nor the database layer
    (the import-linter contract in pyproject.toml says the same of every import path)."""
    code = (
        "import sys, ilrs.portal.rules, ilrs.portal.security; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'sqlalchemy') "
        "or m.startswith('ilrs.portal.db')); "
        "assert not bad, bad"
    )
    src = str(Path(rules.__file__).resolve().parents[2])  # the ilrs under test, not another installed copy
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


def test_conflict_of_interest():
    p = ProposalAccess(1, "submitted", frozenset({7}), frozenset({2}), frozenset())
    assert "proposing organisation" in rules.conflict_of_interest(1, p, 9)
    assert "co-investigator's organisation" in rules.conflict_of_interest(2, p, 9)
    assert rules.conflict_of_interest(3, p, 7) == "the reviewer is a co-investigator"
    assert rules.conflict_of_interest(3, p, 9) is None


def test_visibility_of_drafts_and_reviews():
    draft = ProposalAccess(1, "draft", frozenset({7}), frozenset({2}), frozenset({9}))
    sub = ProposalAccess(1, "submitted", frozenset({7}), frozenset({2}), frozenset({9}))
    pi = rules.Actor(5, "pi", 1)
    other = rules.Actor(6, "pi", 3)
    coi = rules.Actor(7, "pi", 2)
    reviewer = rules.Actor(9, "reviewer", 4)
    unassigned = rules.Actor(10, "reviewer", 4)
    admin = rules.Actor(1, "admin", 99)
    assert rules.can_view_proposal(pi, draft) and rules.can_view_proposal(coi, draft)
    assert not any(rules.can_view_proposal(a, draft) for a in (other, reviewer, admin))
    assert rules.can_view_proposal(reviewer, sub) and rules.can_view_proposal(admin, sub)
    assert not rules.can_view_proposal(unassigned, sub) and not rules.can_view_proposal(other, sub)
    assert rules.can_view_review(reviewer, 9) and rules.can_view_review(admin, 9)
    assert not rules.can_view_review(pi, 9) and not rules.can_view_review(unassigned, 9)
    # a reviewer invited into the proposing organisation is not its partner: no drafts, no proprietary data
    inside = rules.Actor(11, "reviewer", 1)
    assert not rules.can_view_proposal(inside, draft) and not rules.can_view_proposal(inside, sub)
    t = dt.datetime(2035, 1, 1)
    assert not rules.can_download(inside, sub, t + dt.timedelta(days=1), t)
    assert rules.can_download(pi, sub, t + dt.timedelta(days=1), t) and rules.can_download(inside, sub, t, t)


def test_ranking_by_mean_score_unreviewed_last():
    ranked = rules.rank_proposals({1: [3, 5], 2: [5], 4: [4, 4]}, {1: "a", 2: "b", 3: "c", 4: "d"})
    assert [(r.proposal_id, r.rank) for r in ranked] == [(2, 1), (1, 2), (4, 3), (3, 4)]
    assert ranked[-1].mean_score is None


def test_allocation_limits():
    rules.check_allocation(10, 6, 4, 5)
    with pytest.raises(rules.Conflict, match="only 4 remains"):
        rules.check_allocation(10, 6, 4.5, 5)
    with pytest.raises(rules.Invalid, match="more than the proposal requested"):
        rules.check_allocation(10, 0, 6, 5)
    over = rules.oversubscription(OFFER.values(), {"arm_hours": 25}, {})
    assert over[0].factor == 2.5


@pytest.mark.parametrize(
    ("name", "head", "size", "needle"),
    [
        ("run.exe", b"MZ", 10, "not accepted"),
        ("image.png", b"GIF89a", 10, "not PNG"),
        ("big.csv", b"a,b", rules.MAX_UPLOAD_BYTES + 1, "limit"),
        ("empty.csv", b"", 0, "empty"),
        ("bin.csv", b"\xff\xfe\x00\x01" * 10, 40, "UTF-8"),
        ("noext", b"abc", 3, "not accepted"),
    ],
)
def test_upload_refused(name, head, size, needle):
    with pytest.raises(rules.Invalid, match=needle):
        rules.check_upload(name, head, size)


def test_upload_names_are_made_safe():
    assert rules.check_upload("../../etc/passwd.csv", b"a", 1) == ("passwd.csv", "text/csv")
    assert rules.check_upload("<script>x.png", b"\x89PNG\r\n\x1a\nrest", 12)[0] == "script_x.png"


def test_proprietary_period_calendar_months():
    t = dt.datetime(2035, 1, 31, 12)
    assert rules.public_after(t, 1) == dt.datetime(2035, 2, 28, 12)
    assert rules.public_after(t, 12) == dt.datetime(2036, 1, 31, 12)
    assert rules.public_after(dt.datetime(2035, 11, 30), 3) == dt.datetime(2036, 2, 29)  # 2036 is a leap year
    assert rules.public_after(t, 0) == t
    p = ProposalAccess(1, "accepted", frozenset(), frozenset(), frozenset())
    stranger = rules.Actor(3, "pi", 2)
    assert not rules.can_download(stranger, p, t, t - dt.timedelta(seconds=1))
    assert rules.can_download(stranger, p, t, t)
    assert not rules.can_download(None, p, t, t)


@pytest.mark.real_hashing
def test_passwords_hashed_with_argon2id():
    h = security.hash_password("a long enough secret")
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "a long enough secret" not in h
    assert security.verify_password(h, "a long enough secret")
    assert not security.verify_password(h, "another secret!!")
    assert not security.verify_password("not-a-hash", "x")
    with pytest.raises(rules.Invalid):
        security.hash_password("short")


def test_secret_key_rules(tmp_path):
    from ilrs.config import override_settings
    from ilrs.portal.settings import PortalSettings

    old = override_settings()
    override_settings(cache_dir=tmp_path, secret_key=None)
    try:
        with pytest.raises(IlrsError, match="needs ILRS_SECRET_KEY"):
            PortalSettings.from_environment("postgresql://postgres@127.0.0.1/x")
        s1 = PortalSettings.from_environment(f"sqlite:///{tmp_path}/a.db")
        s2 = PortalSettings.from_environment(f"sqlite:///{tmp_path}/a.db")
        secret = tmp_path / "portal" / "secret_key"
        assert s1.secret_key == s2.secret_key == secret.read_text().strip() and len(s1.secret_key) >= 32
        assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
        override_settings(secret_key="short")
        with pytest.raises(IlrsError, match="too short"):
            PortalSettings.from_environment("postgresql://postgres@127.0.0.1/x")
        override_settings(secret_key="k" * 40)
        assert PortalSettings.from_environment("postgresql://postgres@127.0.0.1/x").secret_key == "k" * 40
    finally:
        override_settings(cache_dir=old.cache_dir, secret_key=old.secret_key)


def test_activity_usage_matches_the_planner_expansion():
    """The usage counted per request equals the sum over the planner's own expansion, occurrence by occurrence."""
    from ilrs.operations.requests import expand

    rs = parse_requests(
        {"requests": [act(), act(id="x2", repeat_count=1, repeat_every=None, resources=["drill"], power_w=0)]}
    )
    blocks = expand(rs, START)
    assert rules.activity_usage(rs) == pytest.approx(
        {
            "arm_hours": sum(b.duration_s for b in blocks if "arm" in b.resources) / 3600,
            "drill_hours": sum(b.duration_s for b in blocks if "drill" in b.resources) / 3600,
            "energy_kwh": sum(b.power_w * b.duration_s for b in blocks) / 3.6e6,
            "data_gbit": sum(b.data_bits for b in blocks) / 1e9,
        }
    )


def test_repetition_bomb_refused_quickly():
    """200 requests x 10,000 repetitions (37 KiB of JSON; once 10.8 s and +660 MB): refused before anything is
    expanded: a few MB at most (the expansion's memory is the proof; the time is printed, not gated)."""
    import time
    import tracemalloc

    bomb = [
        act(id=f"r{k}", repeat_count=10_000, repeat_every="1m", duration="1m", deadline="2035-06-30T00:00")
        for k in range(200)
    ]
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(rules.Invalid, match="2,000,000 occurrences"):
        validate({"arm_hours": 10}, bomb, 12)
    elapsed = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"refused in {elapsed * 1e3:.1f} ms, peak {peak / 1e6:.1f} MB")
    assert peak < 20e6, (elapsed, peak)


def test_repetitions_must_fit_their_window():
    with pytest.raises(rules.Invalid, match="do not fit"):
        validate({"arm_hours": 10, "energy_kwh": 10, "data_gbit": 5}, [act(repeat_count=4)], 12)


def test_planner_shares_cover_every_scheduled_partner():
    both = rules.planner_shares(["A", "B"], {"A": 0.6, "B": 3.0}, {"A": 8.0})
    assert both == ({"A": 0.6, "B": 3.0}, "energy")
    # energy to one partner only (once: the other's activities unscheduled): time shares, which cover both
    assert rules.planner_shares(["A", "B"], {"A": 0.6}, {"A": 8.0, "B": 2.0}) == ({"A": 8.0, "B": 2.0}, "time")
    assert rules.planner_shares(["A", "B"], {"A": 0.6}, {"B": 2.0}) == ({}, "time")
    assert rules.planner_shares([], {}, {}) == ({}, "time")


def test_activity_problems_name_each_request_alone():
    """Each request's own problem, as validate_proposal words it for that request alone; what only the requests
    together break (more than the proposal asks) is left to validate_proposal on the whole."""
    rows = [
        act(id="fine"),
        act(id="late", deadline="2035-07-02T00:00"),
        act(id="typo", duration="2 hours"),
        act(id="crowded", repeat_count=4),  # 4 daily runs in a 3-day window
        act(id="greedy", repeat_every=None, repeat_count=1, duration="11h"),  # 11 h of the arm, 10 on offer
        act(id="other", partner="Org B"),
        "not an object",
    ]
    fine, late, typo, crowded, greedy, other, junk = rules.activity_problems(rows, TERMS, "Org A", 1)
    assert fine is None
    assert "late" in late and "outside the call's cycle 2035-06-01 .. 2035-07-01" in late
    assert typo.startswith("duration: ") and "'2 hours' is not a positive duration" in typo
    assert "4 occurrence(s) of 2h every 1d do not fit" in crowded
    assert greedy == "needs 11 arm_hours, the call offers 10"
    assert "name another partner" in other and "'Org A'" in other
    assert junk and "requests[0]" not in junk
    # each verdict agrees with the one validator on that request alone (in a proposal asking for all on offer)
    for row, problem in zip(rows, (fine, late, typo, crowded, greedy, other, junk), strict=True):
        try:
            validate({k: o.quantity for k, o in OFFER.items()}, [row], 12)
        except rules.Invalid:
            assert problem is not None
        else:
            assert problem is None
    # two fine requests that together use more arm time than the proposal asks: no row's problem, the whole's
    pair = [act(id="a"), act(id="b")]
    assert rules.activity_problems(pair, TERMS, "Org A", 1) == [None, None]
    with pytest.raises(rules.Invalid, match="arm_hours"):
        validate({"arm_hours": 6, "energy_kwh": 50, "data_gbit": 5}, pair, 12)
