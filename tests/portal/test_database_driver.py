"""PostgreSQL is an optional extra (``ilrs[postgres]``): without psycopg a PostgreSQL URL is refused with a message
that names the extra, and SQLite keeps working."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import event

from ilrs.errors import IlrsError

#: Run ``ilrs`` in a fresh interpreter where importing psycopg fails as it does when the extra is not installed
#: (``sys.modules[name] = None`` makes ``import name`` raise ImportError).
_WITHOUT_PSYCOPG = (
    "import sys\n"
    "for name in [m for m in sys.modules if m == 'psycopg' or m.startswith('psycopg.')] + ['psycopg']:\n"
    "    sys.modules[name] = None\n"
    "from ilrs.cli.main import app\n"
    "sys.argv = ['ilrs', *sys.argv[1:]]\n"
    "app()\n"
)


def test_postgres_url_without_psycopg_names_the_extra(monkeypatch, tmp_path):
    from ilrs.portal.db.session import make_engine

    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(IlrsError) as exc:
        make_engine("postgresql://postgres@127.0.0.1:5432/ilrs")
    assert "pip install 'ilrs[postgres]'" in str(exc.value) and "ILRS_DATABASE_URL" in str(exc.value)
    make_engine(f"sqlite:///{tmp_path / 'portal.db'}").dispose()  # SQLite needs no extra


@pytest.mark.e2e
def test_cli_without_psycopg_says_which_extra_to_install(tmp_path):
    """``ilrs portal create-admin`` against a PostgreSQL URL in an interpreter without psycopg: a one-line error
    naming the extra, a non-zero exit, no traceback."""
    from tests.clirunner import subprocess_env

    env = {
        **subprocess_env(),
        "ILRS_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/ilrs_absent",
        "ILRS_SECRET_KEY": "k" * 40,
    }
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            _WITHOUT_PSYCOPG,
            "portal",
            "create-admin",
            "--email",
            "a@example.org",
            "--password-stdin",
        ],
        input="a long and unusual passphrase 4711\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode != 0
    # the extra by name even where a console reads "[postgres]" as markup
    assert "the postgres extra" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.postgres
def test_pooled_connection_ended_by_the_server_is_replaced(postgres_url):
    """The pool's check on checkout costs no round trip (no ``SELECT 1`` per request), yet a connection the server
    has ended (as on a restart or ``pg_terminate_backend``) is replaced before a request uses it: the next read
    succeeds, on a new server process."""
    import psycopg
    from portal_helpers import PG_ADMIN_DSN
    from sqlalchemy import text

    from ilrs.portal.db.session import make_engine, session_factory

    engine = make_engine(postgres_url, threads=1)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    reads = session_factory(engine, autocommit=True)
    try:
        with reads() as db:
            first = db.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with reads() as db:  # a healthy pooled connection: reused, and no ping sent
            assert db.execute(text("SELECT pg_backend_pid()")).scalar_one() == first
        assert statements == ["SELECT pg_backend_pid()"] * 2
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone() == (True,)
        # the server's notice and end-of-file reach the pooled connection's socket within a moment
        time.sleep(0.5)
        with reads() as db:
            assert db.execute(text("SELECT pg_backend_pid()")).scalar_one() != first
    finally:
        engine.dispose()
