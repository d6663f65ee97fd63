"""The demo that ``ilrs serve --demo`` seeds: proposals in every state, and one accepted whose partner sees its
activities planned by the real planner against the scenario's twin (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from portal_helpers import NOW, OFFER

pytestmark = pytest.mark.portal


def test_demo_partner_sees_a_planned_schedule(app):
    from sqlalchemy import select

    from ilrs.portal import actions
    from ilrs.portal.db.models import Call, Proposal, User
    from ilrs.portal.demo import seed
    from ilrs.portal.rules import OfferLine

    with app.state.sessionmaker() as db:
        emails = seed(db, NOW, offer=[OfferLine(*o) for o in OFFER])
        assert seed(db, NOW) == {}  # seeded once
    with app.state.sessionmaker() as db:
        states = {p.title: p.status for p in db.scalars(select(Proposal))}
        assert sorted(states.values()) == ["accepted", "draft", "submitted"]
        call = db.scalars(select(Call)).one()
        admin = db.scalars(select(User).where(User.email == emails["admin"])).one()
        ranked = actions.ranking(db, actions.actor_of(admin), call.id)
        assert [r.title for r in ranked][0] == "Seismic network at the Connecting Ridge" and ranked[0].reviews == 2
        lsi = db.scalars(select(User).where(User.email == emails["pi.lsi"])).one()
        pro = db.scalars(select(User).where(User.email == emails["pi.pro"])).one()
        # the planner started at seeding; this waits for it
        plan = actions.schedule(db, actions.actor_of(lsi), call, wait_s=None)
        assert not plan.pending and "planned by the operations planner" in plan.note
        planned = [r for r in plan.rows if r.planned]
        assert planned and {r.request_id for r in planned} == {"seis-deploy"}
        assert all(call.cycle_start <= r.start < r.end <= call.cycle_end for r in planned)
        # another partner sees none of it
        assert actions.schedule(db, actions.actor_of(pro), call, wait_s=None).rows == []
