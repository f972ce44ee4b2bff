"""pytest plugin: one memgate phase per test (`pytest -p memgate_pytest`).

Each test is a phase named by its node id. In pytest-xdist's workers tests
run side by side, so there each phase is scoped to the worker that runs it
(and what it starts): its per-process peak stays exact while phases overlap.
Without memgate it does nothing. No dependency but pytest itself.
"""
import os

import pytest

from memgate_mark import memgate_mark


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    pid = os.getpid() if os.environ.get("PYTEST_XDIST_WORKER") else None
    memgate_mark(item.nodeid, pid=pid)
    try:
        yield
    finally:
        memgate_mark(None, pid=pid)
