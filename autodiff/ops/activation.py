"""Activations as composites of primitives (no backward of their own): sigmoid, relu,
softmax, log_softmax. softmax and log_softmax shift by the max, so logits of magnitude 1e4
stay finite.

>>> import autodiff as ad
>>> ad.softmax(ad.tensor([1e4, 0.0]), axis=-1).tolist()
[1.0, 0.0]
"""

from __future__ import annotations

from typing import Any

from autodiff.ops._convert import as_tensor
from autodiff.ops.elementwise import exp, tanh
from autodiff.ops.indexing import where
from autodiff.ops.reduce import logsumexp
from autodiff.tensor import Tensor


def sigmoid(x: Any) -> Tensor:
    """1 / (1 + e^-x), computed as (tanh(x/2) + 1) / 2: no overflow for any x."""
    x = as_tensor(x)
    return (tanh(x * 0.5) + 1) * 0.5


def relu(x: Any) -> Tensor:
    """max(x, 0); its gradient at 0 is 0 (as PyTorch)."""
    x = as_tensor(x)
    return where(x.data > 0, x, 0)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along `axis`."""
    x = as_tensor(x)
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along `axis`, computed as exp(log_softmax(x))."""
    return exp(log_softmax(x, axis=axis))
