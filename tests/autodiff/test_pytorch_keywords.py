"""PyTorch's keywords (`dim=`, `keepdim=`, `unbiased=`, ...) passed to an op that takes NumPy's
(`axis=`, `keepdims=`, `ddof=`) raise a TypeError naming the op, NumPy's word and the value:
for every such op and method the registry holds, one place (registry.explain_pytorch_keywords)."""

import inspect

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import registry

# The reductions issue 17 names, and the others a PyTorch user passes dim= to: the list below,
# derived from the registry, must hold them all (so it cannot be empty or miss a family).
EXPECTED = {"sum", "mean", "max", "min", "prod", "std", "var", "argmax", "argmin", "cumsum",
            "cumprod", "softmax", "log_softmax", "logsumexp", "median", "quantile", "nansum",
            "nanmean", "concatenate", "stack", "split", "squeeze", "expand_dims", "flip", "roll",
            "take_along_axis", "unflatten", "linalg.norm", "linalg.vector_norm"}


def _takes(fn, word):
    return word in inspect.signature(fn).parameters


def _explained(table):
    """(name, function, the PyTorch keywords it explains) for every entry taking NumPy's."""
    out = []
    for name, fn in sorted(table.items()):
        fn = getattr(fn, "fn", fn)
        if callable(fn) and not isinstance(fn, property):
            words = {t for t, n in registry.PYTORCH_KEYWORDS.items()
                     if _takes(fn, n) and not _takes(fn, t)}  # var's correction=: NumPy 2's
            if words:
                out.append((name, fn, words))
    return out


OPS = _explained(registry.OPS)
METHODS = _explained(registry.METHODS)
VALUES = {"dim": 1, "dims": (0, 1), "keepdim": True, "correction": 1, "unbiased": False}


def test_the_derived_lists_hold_every_reduction_and_every_method():
    assert {name for name, _, _ in OPS} >= EXPECTED
    assert {"sum", "mean", "max", "argmax", "softmax", "std", "unsqueeze", "squeeze",
            "unflatten"} <= {name for name, _, _ in METHODS}


@pytest.mark.parametrize("name, fn, words", OPS, ids=[n for n, _, _ in OPS])
def test_every_op_explains_pytorchs_keywords(name, fn, words):
    x = ad.ones((2, 3))
    for word in sorted(words):
        numpy = registry.PYTORCH_KEYWORDS[word]
        given = VALUES[word]
        shown = int(given) if word == "unbiased" else given
        message = f"{name}: this library uses NumPy's {numpy}= ({numpy}={shown!r}), not {word}="
        with pytest.raises(TypeError) as e:
            fn(x, **{word: given})
        assert str(e.value) == message


@pytest.mark.parametrize("name, fn, words", METHODS, ids=[n for n, _, _ in METHODS])
def test_every_method_explains_pytorchs_keywords(name, fn, words):
    x = ad.ones((2, 3))
    with pytest.raises(TypeError, match=rf"^{name}: this library uses NumPy's axis= \(axis=1\), "
                                        "not dim=$"):
        getattr(x, name)(dim=1)


def test_two_pytorch_keywords_are_named_together():
    x = ad.tensor([[1.0, 5.0], [7.0, 2.0]])
    with pytest.raises(TypeError, match=r"^argmax: this library uses NumPy's axis= and keepdims= "
                                        r"\(axis=1, keepdims=True\), not dim= and keepdim=$"):
        x.argmax(dim=1, keepdim=True)
    assert x.argmax(axis=1, keepdims=True).tolist() == [[1], [0]]  # what it says to write
    with pytest.raises(TypeError, match=r"^std: this library uses NumPy's ddof= \(ddof=1\), not "
                                        "unbiased=$"):
        x.std(unbiased=True)
    with pytest.raises(TypeError, match=r"^linalg.norm: this library uses NumPy's axis="):
        ad.linalg.norm(x, dim=1)


def test_a_correct_call_is_the_op_itself():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    raw = inspect.unwrap(ad.sum)
    assert raw is not ad.sum
    assert ad.sum.pytorch_keywords == {"dim": "axis", "dims": "axis", "keepdim": "keepdims"}
    assert inspect.signature(ad.sum) == inspect.signature(raw)
    assert ad.sum.__name__ == "sum" and ad.sum.__doc__ == raw.__doc__
    np.testing.assert_array_equal(ad.sum(x, 1, keepdims=True).data, raw(x, 1, keepdims=True).data)
    assert x.sum(1).grad_fn is not None and np.sum(x, axis=0).requires_grad  # every way in
    assert registry.NUMPY_FUNCTIONS[np.sum] is ad.sum is registry.METHODS["sum"]


def test_other_type_errors_pass_through_unchanged():
    x = ad.ones((2, 3))
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'dimension'"):
        x.sum(dimension=1)
    with pytest.raises(TypeError, match=r"sum: axis must be an integer or a sequence of "
                                        r"integers, got 1\.5"):
        x.sum(axis=1.5)  # raised inside the op: not a keyword of PyTorch's


def test_a_pytorch_word_the_function_takes_itself_is_left_alone():
    def f(x, axis=None, dim=None):
        return dim

    def g(x, axis=None, **kwargs):
        return kwargs

    def h(x, dim=None):
        return x

    assert ad.explain_pytorch_keywords(f).pytorch_keywords == {"dims": "axis"}
    assert ad.explain_pytorch_keywords(f)(1, dim=2) == 2
    for fn in (g, h):  # **kwargs takes any word; no NumPy word to explain
        assert ad.explain_pytorch_keywords(fn) is fn
    explained = ad.explain_pytorch_keywords(lambda x, axis=None: x)
    assert ad.explain_pytorch_keywords(explained) is explained  # wrapped once only
