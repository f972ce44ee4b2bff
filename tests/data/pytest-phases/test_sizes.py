"""20 tests of known sizes for memgate's per-test phases (it_phases): test
number i holds i * 8 MiB of touched bytes for a moment; test 00 holds
nothing and gives the interpreter's baseline."""
import time

import pytest

MIB = 1024 * 1024


def hold(mib):
    data = b"x" * (mib * MIB)  # bytes: every page written
    time.sleep(0.02)
    return len(data)


def test_00_baseline():
    assert hold(0) == 0


@pytest.mark.parametrize("i", range(1, 20))
def test_size(i):
    assert hold(i * 8) == i * 8 * MIB
