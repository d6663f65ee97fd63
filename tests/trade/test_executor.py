"""Where work runs: in process when small (and said), a scheduler's address from the flag or ILRS_DASK_SCHEDULER,
a clear failure within 10 s when nothing listens there."""

from __future__ import annotations

import socket
import time

import pytest

from ilrs.config import get_settings, override_settings
from ilrs.errors import IlrsError
from ilrs.services.executor import dask_client


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


def test_small_work_runs_in_process_and_says_why():
    with dask_client(None, None, 2.0) as (mode, client, n):
        assert client is None and n == 0
        assert "in process" in mode and "does not pay for a cluster" in mode
    with dask_client(0, None, 1e6) as (mode, client, _):
        assert client is None and mode == "in process (asked)"


def test_unreachable_scheduler_fails_fast_with_a_message():
    address = f"tcp://127.0.0.1:{_closed_port()}"
    t0 = time.monotonic()
    with pytest.raises(IlrsError, match="no Dask scheduler reachable at " + address), dask_client(None, address, 1.0):
        pass
    assert time.monotonic() - t0 < 10.0
    with pytest.raises(IlrsError, match="not tcp://HOST:PORT or tls://HOST:PORT"), dask_client(None, "http://x:80", 1):
        pass


def test_environment_variable_is_honoured():
    address = f"tls://127.0.0.1:{_closed_port()}"
    before = get_settings()
    override_settings(dask_scheduler=address)
    try:
        # a tls:// address is accepted as an address; nothing listens, so it fails naming it
        with pytest.raises(IlrsError, match=f"reachable at {address}") as exc, dask_client(0, None, 1):
            pass
        assert "ILRS_DASK_SCHEDULER" in str(exc.value)
    finally:
        override_settings(dask_scheduler=before.dask_scheduler)


@pytest.mark.slow
def test_scheduler_without_workers_then_with_another_ilrs_version():
    import subprocess
    import sys

    port = _closed_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [sys.executable, "-c", "from distributed.cli.dask_scheduler import main; main()", "--host", "127.0.0.1",
         "--port", str(port), "--no-dashboard"],
        **quiet,
    )  # fmt: skip
    procs = [scheduler]
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        t0 = time.monotonic()
        with pytest.raises(IlrsError, match="has no workers"), dask_client(None, address, 1.0):
            pass
        assert time.monotonic() - t0 < 20.0
        # a worker (in its own process, no nanny) whose ilrs says another version
        other = "import ilrs; ilrs.__version__ = '0.0.0-other'; from distributed.cli.dask_worker import main; main()"
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", other, address, "--no-nanny", "--nthreads", "1", "--no-dashboard"], **quiet
            )
        )
        from distributed import Client

        with Client(address, timeout="60s") as ready:
            ready.wait_for_workers(1, timeout=120)  # a loaded machine starts a worker slowly: not what is tested
        with pytest.raises(IlrsError, match="workers run ilrs 0.0.0-other"), dask_client(None, address, 1.0):
            pass
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=30)
