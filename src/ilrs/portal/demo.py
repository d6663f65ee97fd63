"""Demo content for ``ilrs serve --demo``: partner organisations, people with role names (no real persons), a call
whose offer comes from the built-in scenario's twin, and proposals in every state: a draft, one submitted and under
review, and one reviewed, accepted and allocated, whose activities the planner schedules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ilrs.portal import actions
from ilrs.portal.db.models import Organisation, User
from ilrs.portal.rules import ADMIN, MEMBER, OPERATOR, PI, REVIEWER

#: Everyone's demo password (the demo is for a loopback trial, never for a public server).
DEMO_PASSWORD = "lunar-demo-2035"
ORGANISATIONS = [
    ("ILRS Station Office", "China", "agency"),
    ("Lunar Surface Institute", "Pakistan", "institution"),
    ("Regolith Science Centre", "Egypt", "institution"),
    ("Polar Radio Observatory", "South Africa", "institution"),
    ("Andes Space Laboratory", "Venezuela", "agency"),
    ("Steppe Instruments Bureau", "Kazakhstan", "institution"),
]
PEOPLE = [  # e-mail local part, display name, role, organisation index
    ("admin", "Station administrator", ADMIN, 0),
    ("operator", "Station operator", OPERATOR, 0),
    ("pi.lsi", "Principal investigator (LSI)", PI, 1),
    ("member.lsi", "Partner member (LSI)", MEMBER, 1),
    ("pi.rsc", "Principal investigator (RSC)", PI, 2),
    ("pi.pro", "Principal investigator (PRO)", PI, 3),
    ("reviewer.asl", "Reviewer (ASL)", REVIEWER, 4),
    ("reviewer.sib", "Reviewer (SIB)", REVIEWER, 5),
]
DOMAIN = "demo.ilrs.invalid"


def _activity(
    rid: str,
    partner: str,
    payload: str,
    start: dt.datetime,
    days: int,
    duration: str,
    resources: list[str],
    power_w: float,
    data_mbit: float,
    conditions: list[str],
) -> dict:
    return {
        "id": rid,
        "partner": partner,
        "payload": payload,
        "duration": duration,
        "earliest": start.isoformat(),
        "deadline": (start + dt.timedelta(days=days)).isoformat(),
        "resources": resources,
        "power_w": power_w,
        "data_mbit": data_mbit,
        "conditions": conditions,
    }


def seed(db: Session, now: dt.datetime, offer=None) -> dict:
    """Fill an empty database and start planning its schedule in the background; returns the demo users' e-mails
    by role. Idempotent: does nothing if seeded."""
    if db.scalar(select(Organisation).limit(1)) is not None:
        return {}
    orgs = [actions.create_organisation(db, None, n, c, k) for n, c, k in ORGANISATIONS]
    users: dict[str, User] = {}
    for local, name, role, k in PEOPLE:
        users[local] = actions.create_user(db, None, f"{local}@{DOMAIN}", name, DEMO_PASSWORD, role, orgs[k].id)
    admin = actions.actor_of(users["admin"])
    cycle_start, cycle_end = dt.datetime(2035, 6, 1), dt.datetime(2035, 7, 1)
    if offer is None:
        from ilrs.portal.station import offer_from_scenario

        offer = offer_from_scenario("ilrs-basic-2035", cycle_start, cycle_end)
    call = actions.create_call(
        db,
        admin,
        "Cycle 2035-A: surface science at the Connecting Ridge",
        "ilrs-basic-2035",
        cycle_start,
        cycle_end,
        now + dt.timedelta(days=30),
        offer,
        "Payload places on the 2035 missions and station time in June 2035.",
    )
    lsi, rsc, pro = (actions.actor_of(users[k]) for k in ("pi.lsi", "pi.rsc", "pi.pro"))
    seismo = actions.create_proposal(
        db,
        lsi,
        call.id,
        {
            "title": "Seismic network at the Connecting Ridge",
            "abstract": "Three geophones placed by the arm.",
            "payload": "Broadband seismometer, 4 kg",
            "proprietary_months": 12,
            "coinvestigators": [f"pi.rsc@{DOMAIN}"],
            "resources": {"arm_hours": 6, "energy_kwh": 5, "data_gbit": 2},
            "activities": [
                _activity("seis-deploy", orgs[1].name, "seismometer", cycle_start, 10, "2h", ["arm"], 300, 50, ["sun"])
            ],
        },
        now,
    )
    actions.submit_proposal(db, lsi, seismo.id, now)
    regolith = actions.create_proposal(
        db,
        rsc,
        call.id,
        {
            "title": "Regolith volatiles by drill",
            "abstract": "Drill cores to 1 m for water-ice analysis.",
            "payload": "Mass spectrometer, 7 kg",
            "proprietary_months": 6,
            "resources": {"drill_hours": 12, "energy_kwh": 20, "data_gbit": 1},
            "activities": [
                _activity(
                    "drill-1",
                    orgs[2].name,
                    "volatiles",
                    cycle_start + dt.timedelta(days=5),
                    20,
                    "3h",
                    ["drill"],
                    600,
                    20,
                    [],
                )
            ],
        },
        now,
    )
    actions.submit_proposal(db, rsc, regolith.id, now)
    actions.create_proposal(
        db,
        pro,
        call.id,
        {
            "title": "Low-frequency radio array (draft)",
            "abstract": "Far-side-like quiet at the pole.",
            "payload": "Dipole antennas",
            "resources": {"rover_hours": 10},
        },
        now,
    )
    scores = {  # (proposal, reviewer): score, comment; the regolith proposal keeps one review pending
        (seismo, "reviewer.asl"): (5, "A clear deployment plan; arm time well argued."),
        (seismo, "reviewer.sib"): (4, "Sound; the data volume could be smaller."),
        (regolith, "reviewer.asl"): (3, "Interesting, but the drill schedule is optimistic."),
    }
    for p in (seismo, regolith):
        for who in ("reviewer.asl", "reviewer.sib"):
            review = actions.assign_reviewer(db, admin, p.id, users[who].id)
            if (p, who) in scores:
                actions.submit_review(db, actions.actor_of(users[who]), review.id, *scores[p, who])
    # the best-ranked proposal accepted with what it asked, so its partner sees a planned schedule
    for key, amount in {"arm_hours": 6, "energy_kwh": 5, "data_gbit": 2}.items():
        actions.allocate(db, admin, seismo.id, key, amount)
    start_planning(db)
    return {local: f"{local}@{DOMAIN}" for local in users}


def start_planning(db: Session) -> None:
    """Start planning every call's accepted activities in the background (the planner's first run over a cold
    twin takes half a minute or more), so the demo's schedule page shows the plan soon after the server starts."""
    from ilrs.portal.db.models import Call

    admin = db.scalar(select(User).where(User.role == ADMIN).order_by(User.id).limit(1))
    if admin is None:
        return
    for call in db.scalars(select(Call)):
        actions.schedule(db, actions.actor_of(admin), call, wait_s=0)
