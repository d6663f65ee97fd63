"""The Alembic migrations build exactly the models' schema, and go down and up again, on both databases."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

pytestmark = pytest.mark.portal


def test_migrations_match_models(database_url):
    from ilrs.portal.db.migrate import alembic_config, upgrade
    from ilrs.portal.db.models import Base
    from ilrs.portal.db.session import make_engine

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        command.downgrade(alembic_config(engine), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
