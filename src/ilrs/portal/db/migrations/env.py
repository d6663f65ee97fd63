"""Alembic environment: runs on the engine the portal hands over (ilrs.portal.db.migrate)."""

from alembic import context

from ilrs.portal.db.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
