"""Anomaly mode: trace a NaN or inf to the op that made it.

Inside `detect_anomaly()`, the first NaN/inf produced by an op's forward raises
`FloatingPointError` naming the op and the user's source line; in a backward, it names the op
whose backward produced it and the line where that op was created.

>>> import autodiff as ad
>>> x = ad.tensor([-1.0], requires_grad=True)
>>> with ad.detect_anomaly():
...     y = ad.log(x)
Traceback (most recent call last):
...
FloatingPointError: detect_anomaly: 'log' produced nan in forward ...
"""

from __future__ import annotations

import warnings

import numpy as np

from autodiff.grad_mode import STATE


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
        self.prev: list[bool] = []

    def __enter__(self) -> detect_anomaly:
        self.prev.append(STATE.anomaly)
        STATE.anomaly = self.enabled
        self._errstate = np.errstate(all="ignore")
        self._errstate.__enter__()
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._warnings.__exit__(*exc)
        self._errstate.__exit__(*exc)
        STATE.anomaly = self.prev.pop()
