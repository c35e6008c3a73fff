"""NumPy functions on tensors: differentiable where the op exists, a TypeError otherwise."""

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck


def test_asarray_and_facts():
    t = ad.tensor([[1.0, 2.0]])
    assert isinstance(np.asarray(t), np.ndarray) and np.shape(t) == (1, 2) and np.ndim(t) == 2
    assert np.allclose(t, [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


def test_ufuncs_and_functions_are_differentiable():
    x = ad.tensor([0.5, 1.0], requires_grad=True)
    ys = [np.exp(x), np.log(x), np.sqrt(x), np.tanh(x), np.abs(x), np.sin(x),
          np.sum(x, axis=0), np.mean(x), np.max(x), np.matmul(x, x), np.concatenate([x, x]),
          np.stack([x, x]), np.reshape(x, (2, 1)), np.transpose(x), np.where(x.data > 0.7, x, 0),
          np.clip(x, 0, 0.8), np.maximum(x, 0.7), x + np.ones(2), np.ones(2) * x]
    for y in ys:
        assert isinstance(y, ad.Tensor) and y.requires_grad
    np.exp(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, np.exp([0.5, 1.0]), rtol=1e-6)


def test_unsupported_raise_a_clear_type_error():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.convolve is not supported"):
        np.convolve(x, x)
    with pytest.raises(TypeError, match="not supported"):
        np.add.reduce(x)
    with pytest.raises(TypeError, match="not supported"):
        np.exp(x, out=np.empty(2))
    with pytest.raises(TypeError, match="not supported"):
        np.spacing(x)


def test_non_differentiable_ufuncs_return_boolean_tensors():
    x = ad.tensor([1.0, np.nan])
    assert np.isnan(x).data.tolist() == [False, True]


CASES = {  # name: (NumPy call on a Tensor or an array, input shape, positive inputs only)
    "log": (np.log, (2, 3), True),
    "sqrt": (np.sqrt, (2, 3), True),
    "abs": (np.abs, (2, 3), False),
    "tanh": (np.tanh, (2, 3), False),
    "square": (np.square, (2, 3), False),
    "reciprocal": (np.reciprocal, (2, 3), True),
    "power": (lambda x: np.power(x, 3), (2, 3), False),
    "divide": (lambda x: np.divide(x, 2.5), (2, 3), False),
    "sum": (lambda x: np.sum(x, axis=0, keepdims=True), (2, 3), False),
    "mean": (lambda x: np.mean(x, axis=1), (2, 3), False),
    "var": (lambda x: np.var(x, axis=0), (2, 3), False),
    "std": (lambda x: np.std(x, axis=1, ddof=1), (2, 3), False),
    "max": (lambda x: np.max(x, axis=1), (2, 3), False),
    "min": (lambda x: np.min(x, axis=0), (2, 3), False),
    "transpose": (np.transpose, (2, 3), False),
    "reshape": (lambda x: np.reshape(x, (3, 2)), (2, 3), False),
    "where": (lambda x: np.where((x.data if isinstance(x, ad.Tensor) else x) > 0, x, 0.5),
              (2, 3), False),
    "clip": (lambda x: np.clip(x, -0.5, 0.5), (2, 3), False),
    "stack": (lambda x: np.stack([x, x * 2], axis=1), (2, 3), False),
    "split": (lambda x: np.split(x, 3, axis=1)[1], (2, 3), False),
    "pad": (lambda x: np.pad(x, ((1, 0), (0, 2))), (2, 3), False),
    "concatenate": (lambda x: np.concatenate([x, x], axis=0), (2, 3), False),
    "dot 1-D": (lambda x: np.dot(x[0], x[1]), (2, 3), False),
    "dot 2-D": (lambda x: np.dot(x, np.transpose(x)), (2, 3), False),
    "dot scalar": (lambda x: np.dot(x, 2.0), (2, 3), False),
    "matmul": (lambda x: np.matmul(np.transpose(x), x), (2, 3), False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_functions_match_numpy_and_differentiate(name):
    call, shape, positive = CASES[name]
    rng = np.random.default_rng(0)
    data = rng.uniform(0.2, 2.0, shape) if positive else rng.uniform(-2.0, 2.0, shape)
    x = ad.tensor(data.astype(np.float32), requires_grad=True)
    y = call(x)
    assert isinstance(y, ad.Tensor) and y.requires_grad and y.dtype == np.float32
    np.testing.assert_allclose(y.data, call(data), rtol=1e-5, atol=1e-6)
    assert gradcheck(call, ad.tensor(data, requires_grad=True))


def test_ndarray_with_tensor_returns_a_tensor_in_the_tensor_dtype():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for y in (np.ones(2) + x, np.ones(2) * x, np.ones((3, 2)) @ x, np.ones(2) - x, np.ones(2) / x):
        assert isinstance(y, ad.Tensor) and y.requires_grad and y.dtype == np.float32
    (np.array([3.0, 4.0]) * x).sum().backward()
    assert x.grad.data.tolist() == [3.0, 4.0]


def test_unsupported_arguments_and_shapes_are_clear_type_errors():
    x = ad.tensor(np.ones((2, 2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=r"np\.mean on autodiff Tensors.*'out'"):
        np.mean(x, out=np.empty(()))
    with pytest.raises(TypeError, match=r"np\.dot on autodiff Tensors.*'out'"):
        np.dot(x, x, out=np.empty((2, 2, 2, 2)))
    with pytest.raises(TypeError, match=r"np\.exp on autodiff Tensors takes no keyword "
                                        r"arguments, got dtype="):
        np.exp(x, dtype=np.float32)
    with pytest.raises(TypeError, match=r"np\.exp .* got where="):
        np.exp(x, where=np.ones((2, 2, 2), dtype=bool))
    with pytest.raises(TypeError, match=r"np\.multiply\.outer is not supported"):
        np.multiply.outer(x, x)
    # the name the user wrote, submodule included
    with pytest.raises(TypeError, match=r"^np\.linalg\.eig is not supported"):
        np.linalg.eig(x)
    with pytest.raises(TypeError, match=r"^np\.fft\.fft is not supported"):
        np.fft.fft(x)
    with pytest.raises(TypeError, match=r"^np\.lexsort is not supported"):
        np.lexsort(x)


# -- a graph is never dropped silently (each fails on the old main) --------------------------

@pytest.mark.parametrize("convert", [
    lambda x: np.asarray(x), lambda x: np.array(x), lambda x: x.numpy(),
    lambda x: np.mean([x, x]), lambda x: np.sum([x, x * 2]), lambda x: np.array([x, x]),
])
def test_a_tensor_that_requires_grad_never_becomes_an_array_silently(convert):
    x = ad.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"requires grad \(shape \(\)\) cannot become a NumPy "
                                           r"array.*detach\(\).*ad.stack"):
        convert(x)
    with ad.no_grad():  # outside the graph on purpose: converts
        assert np.asarray(convert(x)).dtype == np.float32
    assert np.asarray(convert(x.detach())).dtype == np.float32


def test_the_issues_mean_of_a_list_raises_instead_of_a_wrong_gradient():
    with pytest.raises(RuntimeError, match="cannot become a NumPy array"):
        ad.grad(lambda x: x + np.mean([x, x]))(1.0)  # was 1 (correct: 2)
    # the engine's own way gives 2
    assert ad.grad(lambda x: x + ad.stack([x, x]).mean())(1.0).item() == 2.0


def test_scipy_cannot_silently_take_the_array():
    special = pytest.importorskip("scipy.special", reason="SciPy comes with scikit-learn")
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="cannot become a NumPy array"):
        special.logsumexp(x)
    assert np.isclose(special.logsumexp(x.detach()), ad.logsumexp(x).item())


def test_complex_values_are_refused():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    for make in (lambda: x * (1 + 0.2j), lambda: np.add(x, 1j), lambda: x + np.array([1j, 2])):
        with pytest.raises(TypeError, match="complex"):
            make()
    with pytest.raises(TypeError, match="tensors are real"):
        ad.tensor([1 + 2j])
    with pytest.raises(TypeError, match="tensors are real"):
        ad.Tensor(np.ones(2, np.complex64))
