"""Portal fixtures: a fresh database per test on SQLite and on PostgreSQL (its own uniquely named database on
127.0.0.1:5432), the app, and a populated world of organisations and users in every role.

PostgreSQL tests are skipped only when the server is unreachable outside CI; with CI=true they fail instead.
"""

from __future__ import annotations

import pytest
from portal_helpers import PgDatabase, World, build_world, make_app, require_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'portal.db'}"
        return
    require_postgres()
    db = PgDatabase()
    request.node.pg_database = db
    yield db.url
    db.drop()


@pytest.fixture
def postgres_url(request):
    require_postgres()
    db = PgDatabase()
    yield db.url
    db.drop()


@pytest.fixture
def app(database_url, tmp_path):
    app = make_app(database_url, tmp_path)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def world(app, tmp_path) -> World:
    return build_world(app, tmp_path)


@pytest.fixture(autouse=True)
def cheap_password_hashing(request, monkeypatch):
    """argon2id with its cheapest parameters: the tests create dozens of users; the production profile (about
    0.2 s a hash here) is checked by test_passwords_hashed_with_argon2id."""
    if request.node.get_closest_marker("real_hashing"):
        monkeypatch.setattr("ilrs.portal.security._HASHER", None)
        monkeypatch.setattr("ilrs.portal.security._DUMMY", None)
        return
    from argon2 import PasswordHasher, profiles

    monkeypatch.setattr("ilrs.portal.security._HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    monkeypatch.setattr("ilrs.portal.security._DUMMY", None)
