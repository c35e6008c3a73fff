"""keep_freed_memory: freed large arrays are reused instead of faulted in again.

Each case runs in a fresh interpreter, so the allocator settings of the test process stay as
they were.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autodiff.memory import _is_glibc

# A step that holds eight 4 MiB arrays at once, as a training step holds its activations, then
# frees them; the minor page faults per step after the first steps (resource.getrusage).
_ROUNDS = """
import resource, sys
import numpy as np
import autodiff as ad
if sys.argv[1] == "keep":
    print(ad.keep_freed_memory(), end=" ")
def step():
    held = [np.ones(1 << 20, np.float32) for _ in range(8)]
    del held
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(40):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 40)
"""


def _faults_per_round(mode: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    return out.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _is_glibc(),
                    reason="mallopt is glibc's; elsewhere keep_freed_memory changes nothing")
def test_freed_arrays_are_reused_not_faulted_in_again() -> None:
    # Without it, glibc returns the freed 32 MiB (its heap top is trimmed past twice the
    # largest block freed): each step faults its 8,192 pages in again.
    (default,) = _faults_per_round("default")
    applied, kept = _faults_per_round("keep")
    assert applied == "True"
    assert float(kept) < 10
    if not _huge_pages_always():  # with 2 MiB pages the default faults far fewer times
        assert float(default) > 1000


def _huge_pages_always() -> bool:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


def test_elsewhere_it_reports_that_nothing_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    import autodiff.memory as memory

    monkeypatch.setattr(memory, "_is_glibc", lambda: False)
    assert memory.keep_freed_memory() is False


def test_is_glibc_is_false_without_confstr(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(os, "confstr", missing)
    assert _is_glibc() is False
