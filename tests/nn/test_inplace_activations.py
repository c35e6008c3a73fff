"""inplace=True on the activation functions and modules, and the `_` functions (relu_, ...):
the result is written into the input's memory (same tensor, version bumped); a non-leaf's
gradients equal the out-of-place ones and PyTorch's; a leaf that requires grad is refused; a
backward that saved the overwritten values raises."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck

# (name, our function of (x, inplace), PyTorch's name and arguments, module)
CASES = [
    ("relu", lambda x, ip: F.relu(x, inplace=ip), ("relu", {}), nn.ReLU),
    ("relu6", lambda x, ip: F.relu6(x, inplace=ip), ("relu6", {}), nn.ReLU6),
    ("leaky_relu", lambda x, ip: F.leaky_relu(x, 0.2, inplace=ip),
     ("leaky_relu", {"negative_slope": 0.2}), lambda inplace: nn.LeakyReLU(0.2, inplace)),
    ("elu", lambda x, ip: F.elu(x, 0.7, inplace=ip), ("elu", {"alpha": 0.7}),
     lambda inplace: nn.ELU(0.7, inplace)),
    ("celu", lambda x, ip: F.celu(x, 1.5, inplace=ip), ("celu", {"alpha": 1.5}),
     lambda inplace: nn.CELU(1.5, inplace)),
    ("selu", lambda x, ip: F.selu(x, inplace=ip), ("selu", {}), nn.SELU),
    ("hardtanh", lambda x, ip: F.hardtanh(x, -0.5, 2.0, inplace=ip),
     ("hardtanh", {"min_val": -0.5, "max_val": 2.0}),
     lambda inplace: nn.Hardtanh(-0.5, 2.0, inplace)),
    ("hardswish", lambda x, ip: F.hardswish(x, inplace=ip), ("hardswish", {}), nn.Hardswish),
    ("silu", lambda x, ip: F.silu(x, inplace=ip), ("silu", {}), nn.SiLU),
    ("mish", lambda x, ip: F.mish(x, inplace=ip), ("mish", {}), nn.Mish),
    ("rrelu", lambda x, ip: F.rrelu(x, 0.1, 0.3, inplace=ip),
     ("rrelu", {"lower": 0.1, "upper": 0.3}), lambda inplace: nn.RReLU(0.1, 0.3, inplace).eval()),
]
UNDERSCORE = [  # F.name_ against F.name(inplace=True)
    ("relu_", lambda x: F.relu_(x), lambda x: F.relu(x)),
    ("leaky_relu_", lambda x: F.leaky_relu_(x, 0.3), lambda x: F.leaky_relu(x, 0.3)),
    ("elu_", lambda x: F.elu_(x, 0.5), lambda x: F.elu(x, 0.5)),
    ("celu_", lambda x: F.celu_(x, 2.0), lambda x: F.celu(x, 2.0)),
    ("selu_", lambda x: F.selu_(x), lambda x: F.selu(x)),
    ("hardtanh_", lambda x: F.hardtanh_(x, -2.0, 0.5), lambda x: F.hardtanh(x, -2.0, 0.5)),
    ("rrelu_", lambda x: F.rrelu_(x, 0.2, 0.4), lambda x: F.rrelu(x, 0.2, 0.4)),
]
X = np.array([-4.0, -2.5, -1.0, -0.3, 0.0, 0.4, 1.0, 2.5, 3.0, 7.0])


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _nonleaf(x):
    a = ad.tensor(x, requires_grad=True)
    return a, a * 1.5


@pytest.mark.parametrize("name, fn, torch_fn, module", CASES, ids=[c[0] for c in CASES])
def test_inplace_matches_pytorch_on_a_nonleaf(name, fn, torch_fn, module):
    torch = _torch()
    tname, kwargs = torch_fn
    v = np.random.default_rng(0).standard_normal(X.shape)
    t = torch.tensor(X, requires_grad=True)
    ty = t * 1.5
    tout = getattr(torch.nn.functional, tname)(ty, inplace=True, **kwargs)
    (tout * torch.tensor(v)).sum().backward()
    a, y = _nonleaf(X)
    out = fn(y, True)
    assert out is y
    np.testing.assert_allclose(y.data, tout.detach().numpy(), rtol=1e-14, atol=1e-300)
    (out * v).sum().backward()
    # PyTorch's in-place elu/selu backward reads its output (out + alpha), ours e^x: 1e-14 apart
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=5e-14, atol=1e-300)


@pytest.mark.parametrize("name, fn, torch_fn, module", CASES, ids=[c[0] for c in CASES])
def test_inplace_equals_out_of_place_and_writes_the_memory(name, fn, torch_fn, module):
    v = np.random.default_rng(1).standard_normal(X.shape)
    a, y = _nonleaf(X)
    expected = fn(y, False)
    (expected * v).sum().backward()
    grad = a.grad.data.copy()
    a.grad = None
    a, y = _nonleaf(X)
    memory, version = y.data, y._version
    out = fn(y, True)
    assert out is y and y.data is memory and y._version == version + 1
    np.testing.assert_array_equal(memory, expected.data)
    (out * v).sum().backward()
    np.testing.assert_array_equal(a.grad.data, grad)
    # the module's flag does the same
    a, y = _nonleaf(X)
    assert module(inplace=True)(y) is y
    np.testing.assert_array_equal(y.data, expected.data)
    assert module(inplace=False)(y) is not y


@pytest.mark.parametrize("name, fn, torch_fn, module", CASES, ids=[c[0] for c in CASES])
def test_a_leaf_that_requires_grad_is_refused_but_written_under_no_grad(
        name, fn, torch_fn, module):
    leaf = ad.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match=rf"{name}\(inplace=True\): a leaf tensor that "
                                           "requires grad"):
        fn(leaf, True)
    np.testing.assert_array_equal(leaf.data, X)  # nothing written
    with ad.no_grad():
        assert fn(leaf, True) is leaf
    np.testing.assert_array_equal(leaf.data, fn(ad.tensor(X), False).data)


@pytest.mark.parametrize("name, fn, torch_fn, module", CASES, ids=[c[0] for c in CASES])
def test_a_backward_that_saved_the_old_values_raises(name, fn, torch_fn, module):
    _, y = _nonleaf(X)
    saved = y * y  # saves y for its backward
    fn(y, True)
    with pytest.raises(RuntimeError, match="modified in place"):
        saved.sum().backward()


def test_pytorch_also_refuses_a_leaf_and_a_stale_saved_tensor():
    torch = _torch()
    with pytest.raises(RuntimeError, match="leaf Variable"):
        torch.nn.functional.relu(torch.tensor(X, requires_grad=True), inplace=True)
    t = torch.tensor(X, requires_grad=True) * 1.5
    saved = t * t
    torch.nn.functional.elu(t, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        saved.sum().backward()


@pytest.mark.parametrize("name, fn, reference", UNDERSCORE, ids=[c[0] for c in UNDERSCORE])
def test_underscore_functions_write_in_place(name, fn, reference):
    x = ad.tensor(X)
    view = x[2:]  # a view of the memory sees the write
    assert fn(x) is x
    np.testing.assert_array_equal(x.data, reference(ad.tensor(X)).data)
    np.testing.assert_array_equal(view.data, x.data[2:])
    with pytest.raises(RuntimeError, match=rf"{name}: a leaf tensor that requires grad"):
        fn(ad.tensor(X, requires_grad=True))


def test_underscore_functions_match_pytorch():
    torch = _torch()
    tf = torch.nn.functional
    pairs = [(F.relu_, tf.relu_, ()), (F.leaky_relu_, tf.leaky_relu_, (0.3,)),
             (F.elu_, tf.elu_, (0.5,)), (F.celu_, tf.celu_, (2.0,)), (F.selu_, tf.selu_, ()),
             (F.hardtanh_, tf.hardtanh_, (-2.0, 0.5)), (F.rrelu_, tf.rrelu_, (0.2, 0.4))]
    for ours, theirs, args in pairs:
        a, y = _nonleaf(X)
        t = torch.tensor(X, requires_grad=True)
        ty = t * 1.5
        ours(y, *args).sum().backward()
        theirs(ty, *args).sum().backward()
        np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-14, atol=1e-300)
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=5e-14, atol=1e-300)


@pytest.mark.parametrize("name, fn, torch_fn, module", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_through_the_in_place_write(name, fn, torch_fn, module):
    x = ad.tensor(np.array([-1.7, -0.6, 0.45, 1.3, 2.2]), requires_grad=True)
    f = lambda t: fn(t * 1.0, True)  # noqa: E731  (the copy is a non-leaf)
    assert gradcheck(f, x)
    assert gradgradcheck(f, x)


def test_float32_stays_float32_and_empty_input():
    a = ad.tensor(np.array([-1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = a * 1
    F.elu(y, inplace=True).sum().backward()
    assert y.dtype == np.float32 and a.grad.dtype == np.float32
    empty = ad.zeros((0, 3))
    assert F.relu_(empty) is empty and empty.shape == (0, 3)


def test_bad_arguments_are_refused_before_anything_is_written():
    x = ad.tensor(X)
    with pytest.raises(ValueError, match=r"hardtanh_: min_val must not be greater than max_val, "
                                         r"got min_val=1\.0 and max_val=0\.0"):
        F.hardtanh_(x, 1.0, 0.0)
    with pytest.raises(ValueError, match="hardtanh: min_val must not be greater"):
        F.hardtanh(x, 1.0, 0.0, inplace=True)
    np.testing.assert_array_equal(x.data, X)


def test_read_only_memory_is_refused():
    x = ad.tensor(X)
    x.data.flags.writeable = False
    with pytest.raises(ValueError, match=r"relu\(inplace=True\): the tensor's memory .* is "
                                         "read-only"):
        F.relu(x, inplace=True)
