"""Anomaly mode: trace a NaN or inf to the op that made it.

Inside `detect_anomaly()`, the first NaN/inf produced by an op's forward raises
`FloatingPointError` naming the op and the user's source line; in a backward, it names the op
whose backward produced it and the line where that op was created.

The user's line is the innermost frame outside library code: the autodiff package, and the
packages that called `register_library` (nn does). A library can also say where an op ran with
`anomaly_scope(name)` (nn pushes a module's path, e.g. "module features.0 (Linear)"): the
message names the innermost scope after the line.

>>> import autodiff as ad
>>> x = ad.tensor([-1.0], requires_grad=True)
>>> with ad.detect_anomaly():
...     y = ad.log(x)
Traceback (most recent call last):
...
FloatingPointError: detect_anomaly: 'log' produced nan in forward ...
"""

from __future__ import annotations

import os
import threading

import numpy as np

from autodiff.grad_mode import STATE, SavedPerThread


def is_anomaly_enabled() -> bool:
    """True inside `detect_anomaly()` (this thread): every op checks its outputs and gradients.

    >>> import autodiff as ad
    >>> ad.is_anomaly_enabled()
    False
    >>> with ad.detect_anomaly():
    ...     print(ad.is_anomaly_enabled())
    True
    """
    return STATE.anomaly


class detect_anomaly:
    """Context manager (and decorator-free switch) for anomaly checks; slows every op.

    >>> import autodiff as ad
    >>> import numpy as np
    >>> with ad.detect_anomaly():
    ...     try:
    ...         ad.log(ad.tensor([-1.0], requires_grad=True))
    ...     except FloatingPointError as e:
    ...         print(str(e).split(' (')[0])
    detect_anomaly: 'log' produced nan in forward
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        # per thread, (the mode before, the block's np.errstate): one object may be entered
        # again inside its block and by several threads at once (NumPy's errstate is per
        # thread too), each getting its own mode and NumPy error settings back
        self.prev = SavedPerThread()

    def __enter__(self) -> detect_anomaly:
        errstate = np.errstate(all="ignore")  # the checks report NaN/inf, not NumPy's warnings
        errstate.__enter__()
        self.prev.push((STATE.anomaly, errstate))
        STATE.anomaly = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        anomaly, errstate = self.prev.pop_saved()
        STATE.anomaly = anomaly
        errstate.__exit__(*exc)


class _Scopes(threading.local):
    def __init__(self) -> None:
        self.names: list[str] = []


_SCOPES = _Scopes()


class anomaly_scope:
    """Context manager: anomaly mode reports the ops made inside as made "in `name`" (the
    innermost scope wins). A list append and pop: a library calls it only when
    `is_anomaly_enabled()`, as `nn.Module.__call__` does with the module's path.

    >>> import autodiff as ad
    >>> from autodiff.anomaly import current_scope
    >>> with ad.anomaly_scope("encoder"):
    ...     with ad.anomaly_scope("encoder.attention"):
    ...         print(current_scope())
    encoder.attention
    >>> print(current_scope())
    None
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> anomaly_scope:
        _SCOPES.names.append(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        _SCOPES.names.pop()


def current_scope() -> str | None:
    """The innermost `anomaly_scope` of this thread, or None.

    >>> from autodiff.anomaly import current_scope
    >>> current_scope() is None
    True
    """
    names = _SCOPES.names
    return names[-1] if names else None


_LIBRARY_DIRS: list[str] = [os.path.dirname(os.path.abspath(__file__)) + os.sep]
_IS_LIBRARY: dict[str, bool] = {}


def register_library(path: str) -> None:
    """Count the source files under the directory `path` (a package's) as library code:
    anomaly mode then names the innermost frame outside them as the user's line, not a line
    inside the library. autodiff itself is always library code; nn registers its package.

    >>> import os
    >>> import autodiff as ad
    >>> from autodiff.anomaly import is_library_file
    >>> ad.register_library(os.path.join(os.sep, "opt", "mylib"))
    >>> is_library_file(os.path.join(os.sep, "opt", "mylib", "layers.py"))
    True
    >>> is_library_file(os.path.join(os.sep, "home", "me", "train.py"))
    False
    """
    folder = os.path.abspath(path) + os.sep
    if folder not in _LIBRARY_DIRS:
        _LIBRARY_DIRS.append(folder)
        _IS_LIBRARY.clear()


def is_library_file(filename: str) -> bool:
    """True when `filename` lies under autodiff or a directory given to `register_library`,
    or is one of Python's frozen modules (runpy, behind `python -m`).

    >>> import autodiff
    >>> from autodiff.anomaly import is_library_file
    >>> is_library_file(autodiff.__file__)
    True
    """
    known = _IS_LIBRARY.get(filename)
    if known is None:
        path = os.path.abspath(filename)
        known = _IS_LIBRARY[filename] = filename.startswith("<frozen ") or any(
            path.startswith(d) for d in _LIBRARY_DIRS)
    return known
