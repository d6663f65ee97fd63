"""Where parallel work runs: this process when it is small, a Dask LocalCluster, or a scheduler by address.

One place for the rules every use case follows (trade studies now; the campaign Monte Carlo can move here): an
address from ``--scheduler`` or ``ILRS_DASK_SCHEDULER`` (``tcp://`` or ``tls://``; TLS settings from the Dask
configuration), a fast and clear failure when nothing listens there or its workers run another ilrs, and the
in-process path said in words when a cluster would cost more than the work.

The workers of a LocalCluster keep the memory they free for the next task (:func:`keep_freed_memory`): Dask
starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``, and with it set glibc no longer raises its threshold
for serving large blocks from fresh ``mmap`` pages above the 128 KiB default (it does so only while the
thresholds are left unset: glibc manual, "Malloc Tunable Parameters"), so every large temporary array of a task
(a 10-year twin's series are 4 MB each) is mapped, faulted in page by page and returned to the kernel again.
A trade-study design then cost ~1.9 times its in-process CPU time, with ~55,000 page faults instead of ~3,000
(measured in one process with and without the variable; ``docs/trade.md``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from ilrs.config import get_settings
from ilrs.errors import IlrsError

#: Below this much serial work [s] the work runs in process: starting a LocalCluster costs a few seconds.
IN_PROCESS_BELOW_S = 10.0
#: How long to wait for a remote scheduler and its first worker before giving up [s].
CONNECT_TIMEOUT_S = 10.0


#: glibc ``mallopt`` parameters (``<malloc.h>``: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3, M_ARENA_MAX -8).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -3, -8
#: Blocks up to this size come from the heap, reused by the next task, instead of fresh ``mmap`` pages [B]. 32 MiB
#: is the upper limit ``mallopt(3)`` gives for 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX; glibc accepts it); a
#: 10-year twin at 10-minute steps has 4 MB series and 21 MB (5, T) priority tables.
WORKER_MMAP_THRESHOLD_B = 32 * 2**20
#: Free memory a worker keeps at the top of its heap before giving it back to the kernel [B].
WORKER_TRIM_THRESHOLD_B = 256 * 2**20


def keep_freed_memory() -> bool:
    """In this process (a Dask worker, before its first task), let glibc's ``malloc`` keep the large blocks it
    frees for the next task: the mmap threshold raised to :data:`WORKER_MMAP_THRESHOLD_B`, the trim threshold to
    :data:`WORKER_TRIM_THRESHOLD_B`, and one arena for all threads (``mallopt(3)``): the task thread's own arena
    would be made of 64 MiB heaps, which a design's 21 MB tables keep leaving and mapping again (measured:
    ~16,000 page faults per design instead of ~1,500). Returns whether it applied (False off glibc, e.g. macOS,
    whose allocator has no such switch). Results do not depend on it; only page faults and time do."""
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries without mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = [
        mallopt(_M_ARENA_MAX, 1),
        mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD_B),
        mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD_B),
    ]
    return all(done)


def _ilrs_version() -> str:
    import ilrs

    return ilrs.__version__


def _probe(address: str) -> None:
    """Fail fast on an address nothing listens at (a Client would retry for its whole timeout)."""
    u = urlparse(address)
    if u.scheme not in ("tcp", "tls") or not u.hostname or not u.port:
        raise IlrsError(
            f"scheduler address {address!r} is not tcp://HOST:PORT or tls://HOST:PORT",
            source="--scheduler / ILRS_DASK_SCHEDULER",
        )
    try:
        with socket.create_connection((u.hostname, u.port), timeout=CONNECT_TIMEOUT_S / 2):
            pass
    except OSError as exc:
        raise IlrsError(
            f"no Dask scheduler reachable at {address} ({exc.strerror or exc})",
            source="--scheduler / ILRS_DASK_SCHEDULER",
            hint="start one with `dask scheduler`, check the address, or leave it out to run locally",
        ) from None


#: The Dask configuration a ``tls://`` scheduler needs on this side (environment variables or a Dask YAML file).
TLS_SETTINGS = (
    "distributed.comm.tls.ca-file (DASK_DISTRIBUTED__COMM__TLS__CA_FILE), "
    "distributed.comm.tls.client.cert and .key (DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT, ..._KEY)"
)


def _check_tls(address: str) -> None:
    """A ``tls://`` scheduler needs a CA and a client certificate from the Dask configuration."""
    from distributed.security import Security

    try:
        context = Security().get_connection_args("client").get("ssl_context")
    except (OSError, ValueError) as exc:  # a configured file that is missing or not a certificate
        raise IlrsError(
            f"the Dask TLS configuration cannot be used for {address}: {exc}",
            source="Dask configuration (distributed.comm.tls)",
            hint=f"set {TLS_SETTINGS}",
        ) from None
    if context is None:
        raise IlrsError(
            f"{address} is a TLS scheduler but no TLS certificates are configured",
            source="Dask configuration (distributed.comm.tls)",
            hint=f"set {TLS_SETTINGS}",
        )


@contextmanager
def dask_client(workers: int | None, scheduler: str | None, serial_seconds: float) -> Iterator[tuple[str, Any, int]]:
    """Where work runs, as (how it runs, said for the user; a Dask client or None for this process; workers):
    a scheduler by address (``scheduler``, else ``ILRS_DASK_SCHEDULER``), else a LocalCluster of ``workers``
    processes, else (``workers`` 0, or None with under :data:`IN_PROCESS_BELOW_S` of ``serial_seconds``) this
    process."""
    address = scheduler or get_settings().dask_scheduler
    if address:
        _probe(address)
        from distributed import Client

        if urlparse(address).scheme == "tls":
            _check_tls(address)
        try:
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError, TypeError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise IlrsError(f"cannot connect to the Dask scheduler at {address}: {exc}", source="--scheduler") from None
        try:
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
            except TimeoutError:
                raise IlrsError(
                    f"the scheduler at {address} has no workers", source="--scheduler / ILRS_DASK_SCHEDULER"
                ) from None
            versions = client.run(_ilrs_version)
            mine = _ilrs_version()
            other = sorted({v for v in versions.values() if v != mine})
            if other:
                raise IlrsError(
                    f"the scheduler's workers run ilrs {', '.join(other)}, this is ilrs {mine}",
                    source=address,
                    hint="install the same ilrs on the workers",
                )
        except BaseException:
            client.close()
            raise
        try:
            yield f"Dask scheduler {address} ({len(versions)} workers)", client, len(versions)
        finally:
            client.close()
        return
    if workers == 0 or (workers is None and serial_seconds < IN_PROCESS_BELOW_S):
        why = "asked" if workers == 0 else f"~{serial_seconds:.0f} s of work does not pay for a cluster"
        yield f"in process ({why})", None, 0
        return
    from distributed import Client, LocalCluster

    n = workers or 2
    with (
        LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        # only on the workers ilrs starts: a scheduler's workers by address are configured by their owner
        client.run(keep_freed_memory)
        yield f"LocalCluster, {n} workers", client, n
