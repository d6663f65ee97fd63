"""Shared fixtures: a private cache directory per test run, and the embedded DEMs."""

from __future__ import annotations

import os

import pytest

from ilrs.config import override_settings


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    # costly products are cached on disk; tests must neither read a developer's cache nor pollute it. The
    # xdist workers of one run share the directory (their base temps are siblings), so a product one worker
    # computed (the default scenario's environment series, a horizon map) is read, not recomputed, by the other;
    # entries are written atomically and checked on reading, so the workers can race on one safely.
    base = tmp_path_factory.getbasetemp()
    cache_dir = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "ilrs-cache"
    cache_dir.mkdir(exist_ok=True)
    override_settings(cache_dir=cache_dir)
    from ilrs.services import cache

    cache.product_cache.cache_clear()
    yield


@pytest.fixture(scope="session")
def pole_dem():
    from ilrs.services.data import pole_dem

    return pole_dem()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Make ``xdist_group`` marks group tests again under ``--dist loadgroup``.

    pytest-xdist 3.8 tells its scheduler a test's group by appending ``@group`` to the worker's ``item._nodeid``;
    pytest 9.2 keeps the node id in ``item._id`` and no longer reads ``_nodeid``, so the groups are silently
    ignored and every test of a group may pay its module fixtures on both workers (pytest-xdist issue #1386,
    fix proposed in pull request #1388). This copies the suffixed id where pytest reads it. A no-op without
    ``--dist loadgroup`` and once xdist writes the id itself.
    """
    from _pytest.nodeid import NodeId

    for item in items:
        suffixed = item.__dict__.get("_nodeid")
        if isinstance(suffixed, str) and suffixed != item.nodeid and hasattr(item, "_id"):
            item._id = NodeId.parse(suffixed)
