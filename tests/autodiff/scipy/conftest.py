"""The op table's generic test calls gc.collect() for every example (to see the graph freed);
after SciPy's and the test modules' imports a full collection walks some million objects
(0.13 s). Freezing what exists when a module starts moves it out of the collector's way for
that module (objects made by the tests are still collected), then it is released."""

import gc

import pytest


@pytest.fixture(autouse=True, scope="module")
def _frozen_heap():
    gc.collect()
    gc.freeze()
    yield
    gc.unfreeze()
