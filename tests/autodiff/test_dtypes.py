"""dtype rules: the default dtype, weak scalars, no silent float64, integer tensors."""

import numpy as np
import pytest

import autodiff as ad


def test_python_numbers_and_lists_become_the_default_dtype():
    assert ad.tensor(1.0).dtype == np.float32
    assert ad.tensor([1, 2, 3]).dtype == np.float32
    ad.set_default_dtype("float64")
    try:
        assert ad.tensor([1.0]).dtype == np.float64 and ad.zeros(1).dtype == np.float64
    finally:
        ad.set_default_dtype("float32")
    with pytest.raises(TypeError, match="floating"):
        ad.set_default_dtype("int32")


def test_numpy_arrays_keep_their_dtype():
    assert ad.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert ad.tensor(np.zeros(2, np.float16)).dtype == np.float16


def test_weak_scalars():
    x32 = ad.tensor([1.0, 2.0], requires_grad=True)
    assert (x32 * 0.1).dtype == np.float32
    assert (0.1 * x32 + 1).dtype == np.float32
    assert (x32 * np.float64(0.1)).dtype == np.float32  # NumPy 2 would promote this
    assert (x32 / 3).dtype == np.float32 and (x32 ** 2).dtype == np.float32
    x64 = ad.tensor(np.array([1.0]))
    y = x64 * 0.9999999
    assert y.dtype == np.float64 and y.data[0] == 0.9999999


def test_constant_arrays_take_the_tensor_dtype():
    x32 = ad.tensor([1.0, 2.0], requires_grad=True)
    assert (x32 + np.ones(2)).dtype == np.float32
    assert (np.ones(2) * x32).dtype == np.float32


def test_float32_graph_gradients_stay_float32():
    W = ad.randn(3, 4, requires_grad=True)
    x = ad.randn(4, 5)
    loss = ((W @ x).tanh() * 0.5 + np.float64(1e-3)).sum() / 7
    loss.backward()
    assert loss.dtype == np.float32 and W.grad.dtype == np.float32


def test_integer_tensors():
    labels = ad.tensor(np.array([0, 2, 1]))
    assert (labels + 1).dtype == np.int64
    assert (labels * 0.5).dtype == np.float32
    assert (labels / 2).dtype == np.float32
    x = ad.tensor([1.0, 2.0, 3.0])
    assert (x * labels).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        labels.requires_grad_()


def test_a_float64_seed_does_not_make_float32_gradients_float64():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).backward(np.ones(2, np.float64))
    assert x.grad.dtype == np.float32
    x.grad = None
    (x * 3).backward(ad.tensor(np.ones(2)))
    assert x.grad.dtype == np.float32 and x.grad.data.tolist() == [3.0, 3.0]


def test_transforms_keep_float32():
    x = ad.tensor([0.5, 1.0])

    def f(t):
        return (t.tanh() * np.float64(0.3) + t ** 3).sum()

    value, g = ad.value_and_grad(f)(x)
    assert value.dtype == np.float32 and g.dtype == np.float32
    assert ad.grad(lambda t: ad.grad(f)(t).sum())(x).dtype == np.float32
    assert ad.hessian(f)(x).dtype == np.float32
    assert ad.jacobian(lambda t: t.exp() * 0.1)(x).dtype == np.float32


def test_numpy_scalars_and_mixed_tensors():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    assert (x * np.float32(2)).dtype == np.float32 and (x + np.int64(3)).dtype == np.float32
    assert (x ** np.float64(2.0)).dtype == np.float32
    assert ad.tensor(np.float64(2.0)).dtype == np.float64  # a NumPy value keeps its dtype
    # Two tensors of different float dtypes promote as NumPy does (both are explicit);
    # each input's gradient still comes back in its own dtype.
    z = ad.tensor(np.ones(2), requires_grad=True)
    w = x + z
    assert w.dtype == np.float64
    w.sum().backward()
    assert x.grad.dtype == np.float32 and z.grad.dtype == np.float64


def test_python_ints_are_weak_with_integer_tensors_as_in_numpy_2():
    u = ad.tensor(np.array([1, 250], np.uint8))
    for r, expect in ((u + 1, u.data + 1), (1 + u, 1 + u.data), (u * 2, u.data * 2),
                      (u - 1, u.data - 1), (u // 3, u.data // 3), (u % 3, u.data % 3)):
        assert r.dtype == np.uint8 and r.tolist() == expect.tolist()
    i8 = ad.tensor(np.array([-3, 4], np.int8))
    assert (i8 * -1).dtype == np.int8 and (i8 * -1).tolist() == [3, -4]
    assert (u + True).dtype == np.uint8  # a Python bool too
    assert (u + 0.5).dtype == np.float32  # a float still makes the default float dtype
    with pytest.raises(OverflowError, match=r"add: Python integer 300 out of bounds for uint8"
                       r".*shape \(2,\)"):
        u + 300
    with pytest.raises(OverflowError, match="-1 out of bounds for uint8"):
        u - (-1)


def test_integer_tensor_ops():
    i = ad.arange(4)
    assert (i * 2).dtype == np.int64 and (-i).dtype == np.int64
    assert (i / 2).dtype == np.float32
    assert ad.mean(ad.tensor(np.array([1, 2, 3]))).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        ad.tensor(np.array([1, 2]), requires_grad=True)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_astype_to_complex_is_refused_as_every_complex_tensor(dtype):
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match=f"astype: tensors are real, so {dtype} is refused"):
        x.astype(dtype)  # made a complex tensor with its graph dropped


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_a_graph_keeps_its_dtype_through_python_scalars_and_second_derivatives(dtype):
    x = ad.tensor(np.array([0.3, -0.2, 0.7]), dtype=dtype, requires_grad=True)
    y = ((x * 0.1 + 1.0) ** 2.5 / 3 - 2.5 ** x).tanh().sum() * 0.5
    (g,) = ad.gradients(y, x, create_graph=True)
    (gg,) = ad.gradients(g.sum(), x)
    assert y.dtype == g.dtype == gg.dtype == np.dtype(dtype)
