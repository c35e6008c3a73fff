"""Tensor methods with PyTorch's names (autodiff/ops/pytorch_methods.py, and flatten, unflatten,
tile of ops/shape.py): values, dtypes, shapes and gradients against PyTorch; without PyTorch,
closed forms and gradcheck; every refused call names the method and says what to write; the
names NumPy's ndarray also has keep NumPy's meaning and explain themselves."""

import warnings
import zlib

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import pytorch_methods, registry
from autodiff.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _data(shape):
    return RNG.standard_normal(shape)


# -- against PyTorch --------------------------------------------------------------------------

# name: (ours on a Tensor, PyTorch's on a torch tensor, input shape); float64 inputs
CASES = {
    "view": (lambda x: x.view(3, -1), lambda t: t.view(3, -1), (2, 3, 2)),
    "view tuple": (lambda x: x.view((4, 3)), lambda t: t.view((4, 3)), (2, 6)),
    "view_as": (lambda x: x.view_as(np.zeros((6, 2))), lambda t: t.view_as(t.new_zeros(6, 2)),
                (3, 4)),
    "reshape_as": (lambda x: x.T.reshape_as(np.zeros(12)),
                   lambda t: t.T.reshape_as(t.new_zeros(12)), (3, 4)),
    "permute": (lambda x: x.permute(2, 0, 1), lambda t: t.permute(2, 0, 1), (2, 3, 4)),
    "permute tuple": (lambda x: x.permute((1, -1, 0)), lambda t: t.permute((1, -1, 0)),
                      (2, 3, 4)),
    "unsqueeze": (lambda x: x.unsqueeze(1), lambda t: t.unsqueeze(1), (2, 3)),
    "unsqueeze last": (lambda x: x.unsqueeze(-1), lambda t: t.unsqueeze(-1), (2, 3)),
    "squeeze": (lambda x: x.squeeze(1), lambda t: t.squeeze(1), (2, 1, 3)),
    "flatten": (lambda x: x.flatten(), lambda t: t.flatten(), (2, 3, 4)),
    "flatten 1": (lambda x: x.flatten(1), lambda t: t.flatten(1), (2, 3, 4)),
    "flatten 0 -2": (lambda x: x.flatten(0, -2), lambda t: t.flatten(0, -2), (2, 3, 4)),
    "flatten keywords": (lambda x: x.flatten(start_dim=1, end_dim=2),
                         lambda t: t.flatten(start_dim=1, end_dim=2), (2, 3, 4, 1)),
    "flatten 0-d": (lambda x: x.flatten(), lambda t: t.flatten(), ()),
    "torch.flatten": (lambda x: ad.flatten(x, 1), lambda t: t.flatten(1), (2, 3, 4)),
    "unflatten": (lambda x: x.unflatten(1, (3, -1)), lambda t: t.unflatten(1, (3, -1)), (2, 12)),
    "unflatten last": (lambda x: x.unflatten(-1, (2, 1, 3)), lambda t: t.unflatten(-1, (2, 1, 3)),
                       (2, 6)),
    "expand": (lambda x: x.expand(2, -1, 4), lambda t: t.expand(2, -1, 4), (3, 1)),
    "expand tuple": (lambda x: x.expand((3, 4)), lambda t: t.expand((3, 4)), (4,)),
    "expand_as": (lambda x: x.expand_as(np.zeros((2, 3))),
                  lambda t: t.expand_as(t.new_zeros(2, 3)), (3,)),
    "tile": (lambda x: x.tile(2, 1, 3), lambda t: t.tile(2, 1, 3), (3, 2)),
    "tile tuple": (lambda x: x.tile((2,)), lambda t: t.tile((2,)), (3, 2)),
    "contiguous": (lambda x: x.T.contiguous().view(-1), lambda t: t.T.contiguous().view(-1),
                   (3, 4)),
    "t": (lambda x: x.t(), lambda t: t.t(), (3, 4)),
    "t 1-d": (lambda x: x.t(), lambda t: t.t(), (3,)),
    "clone": (lambda x: x.clone(), lambda t: t.clone(), (3, 4)),
    "to float32": (lambda x: x.to("float32"), lambda t: t.to(t.new_zeros(1).float().dtype),
                   (3,)),
    "to tensor": (lambda x: x.to(ad.ones(1, dtype="float32")),
                  lambda t: t.to(t.new_zeros(1).float()), (3,)),
    "to keywords": (lambda x: x.to(device="cpu", dtype="float32"),
                    lambda t: t.to(device="cpu", dtype=t.new_zeros(1).float().dtype), (3,)),
    "cpu": (lambda x: x.detach().cpu(), lambda t: t.detach().cpu(), (3,)),
    "float": (lambda x: x.float(), lambda t: t.float(), (3, 2)),
    "double": (lambda x: x.float().double(), lambda t: t.float().double(), (3, 2)),
    "half": (lambda x: x.half(), lambda t: t.half(), (3, 2)),
    "long": (lambda x: (x * 3).long(), lambda t: (t * 3).long(), (7,)),
    "int": (lambda x: (x * 3).int(), lambda t: (t * 3).int(), (7,)),
    "bool": (lambda x: (x > 0).float().bool(), lambda t: (t > 0).float().bool(), (7,)),
    "type_as": (lambda x: x.type_as(ad.ones(1, dtype="float32")),
                lambda t: t.type_as(t.new_zeros(1).float()), (3,)),
    "eq": (lambda x: x.round().eq(x.round()[0]), lambda t: t.round().eq(t.round()[0]), (3, 2)),
    "ne": (lambda x: x.round().ne(0.0), lambda t: t.round().ne(0.0), (3, 2)),
    "lt": (lambda x: x.lt(x.T.T[::-1]), lambda t: t.lt(t.flip(0)), (3, 2)),
    "le": (lambda x: x.le(0.1), lambda t: t.le(0.1), (3, 2)),
    "gt": (lambda x: x.gt(-0.1), lambda t: t.gt(-0.1), (3, 2)),
    "ge": (lambda x: x.ge(x[0]), lambda t: t.ge(t[0]), (3, 2)),
    "masked_fill": (lambda x: x.masked_fill(x.detach() > 0, -1.5),
                    lambda t: t.masked_fill(t.detach() > 0, -1.5), (3, 4)),
    "masked_fill broadcast": (lambda x: x.masked_fill(np.array([[True], [False]]), 2.0),
                              lambda t: t.masked_fill(t.new_tensor([[1], [0]]).bool(), 2.0),
                              (3,)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), lambda t: t.clamp(-0.5, 0.5), (3, 4)),
    "clamp min": (lambda x: x.clamp(min=0.0), lambda t: t.clamp(min=0.0), (3, 4)),
    "clamp max": (lambda x: x.clamp(max=0.2), lambda t: t.clamp(max=0.2), (3, 4)),
    "add": (lambda x: x.add(x[0]), lambda t: t.add(t[0]), (3, 4)),
    "sub": (lambda x: x.sub(2.0), lambda t: t.sub(2.0), (3, 4)),
    "mul": (lambda x: x.mul(x), lambda t: t.mul(t), (3, 4)),
    "div": (lambda x: x.div(x.abs() + 1), lambda t: t.div(t.abs() + 1), (3, 4)),
    "pow": (lambda x: x.abs().pow(1.5), lambda t: t.abs().pow(1.5), (3, 4)),
    "matmul": (lambda x: x.matmul(x.T), lambda t: t.matmul(t.T), (3, 4)),
    "argmax": (lambda x: x.argmax(1, keepdims=True), lambda t: t.argmax(1, keepdim=True), (3, 4)),
    "argmax flat": (lambda x: x.argmax(), lambda t: t.argmax(), (3, 4)),
    "argmin": (lambda x: x.argmin(0), lambda t: t.argmin(0), (3, 4)),
    "sum of eq": (lambda x: x.argmax(1).eq(ad.tensor(np.array([0, 1, 2]))).sum(),
                  lambda t: t.argmax(1).eq(t.new_tensor([0, 1, 2]).long()).sum(), (3, 4)),
    "add alpha": (lambda x: x.add(x[0], alpha=2.5), lambda t: t.add(t[0], alpha=2.5), (3, 4)),
    "sub alpha": (lambda x: x.sub(x.T.T[::-1], alpha=-3),
                  lambda t: t.sub(t.flip(0), alpha=-3), (3, 4)),
    "index_select": (lambda x: x.index_select(1, np.array([2, 0, 2])),
                     lambda t: t.index_select(1, t.new_tensor([2, 0, 2]).long()), (3, 4)),
    "index_select 0-d index": (lambda x: x.index_select(0, ad.tensor(np.array(1))),
                               lambda t: t.index_select(0, t.new_tensor(1).long()), (3, 4)),
    "gather": (lambda x: x.gather(1, np.array([[0, 3], [1, 1]])),
               lambda t: t.gather(1, t.new_tensor([[0, 3], [1, 1]]).long()), (3, 4)),
    "gather axis 0": (lambda x: x.gather(0, np.array([[2, 0, 1, 1]])),
                      lambda t: t.gather(0, t.new_tensor([[2, 0, 1, 1]]).long()), (3, 4)),
    "repeat_interleave": (lambda x: x.repeat_interleave(2, 0),
                          lambda t: t.repeat_interleave(2, 0), (3, 2)),
    "repeat_interleave flat": (lambda x: x.repeat_interleave(3),
                               lambda t: t.repeat_interleave(3), (2, 2)),
    "repeat_interleave counts": (lambda x: x.repeat_interleave(np.array([1, 0, 2]), 0),
                                 lambda t: t.repeat_interleave(t.new_tensor([1, 0, 2]).long(), 0),
                                 (3, 2)),
    "chunk": (lambda x: x.chunk(3, 1)[1], lambda t: t.chunk(3, 1)[1], (3, 7)),
    "chunk last": (lambda x: x.chunk(3, 1)[-1], lambda t: t.chunk(3, 1)[-1], (3, 7)),
    "chunk fewer": (lambda x: x.chunk(4)[-1], lambda t: t.chunk(4)[-1], (6,)),
    "narrow": (lambda x: x.narrow(1, 1, 2), lambda t: t.narrow(1, 1, 2), (3, 4)),
    "narrow negative start": (lambda x: x.narrow(0, -2, 2), lambda t: t.narrow(0, -2, 2), (3, 4)),
    "new_zeros": (lambda x: x.new_zeros(2, 3), lambda t: t.new_zeros(2, 3), (3,)),
    "new_ones": (lambda x: x.float().new_ones((2,)), lambda t: t.float().new_ones((2,)), (3,)),
    "new_empty": (lambda x: x.new_empty(2).zero_(), lambda t: t.new_empty(2).zero_(), (3,)),
    "new_full": (lambda x: x.new_full((2, 1), 7), lambda t: t.new_full((2, 1), 7), (3,)),
    "new_tensor": (lambda x: x.new_tensor([1, 2]), lambda t: t.new_tensor([1, 2]), (3,)),
}


def _torch_dtype(t):
    return str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize("name", list(CASES))
def test_values_dtypes_shapes_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference (make bench's extra)")
    ours, theirs, shape = CASES[name]
    data = np.random.default_rng(zlib.crc32(name.encode())).standard_normal(shape)
    x = ad.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    y, u = ours(x), theirs(t)
    assert y.shape == tuple(u.shape) and str(y.dtype) == _torch_dtype(u), name
    np.testing.assert_allclose(y.data, u.detach().numpy(), rtol=1e-15, atol=1e-15)  # rounding
    assert y.requires_grad == u.requires_grad
    if u.requires_grad:
        seed = np.random.default_rng(1).standard_normal(y.shape)
        (u * torch.tensor(seed)).sum().backward()
        (g,) = ad.gradients([y], [x], grad_outputs=[ad.tensor(seed.astype(y.dtype))])
        assert g.dtype == x.dtype
        np.testing.assert_allclose(g.data, t.grad.numpy(), rtol=1e-6 if y.dtype != np.float64
                                   else 1e-15)


def test_the_pytorch_table_covers_every_method_of_the_module():
    covered = {name.split()[0] for name in CASES}
    assert set(pytorch_methods.METHODS) - covered == {"numel", "dim", "ndimension", "cuda"}


def test_facts_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference")
    for shape in [(), (3,), (2, 3, 4), (0, 2)]:
        x, t = ad.zeros(shape), torch.zeros(shape)
        assert (x.numel(), x.dim(), x.ndimension()) == (t.numel(), t.dim(), t.ndimension())
    assert x.device == str(t.device) == "cpu"
    y = ad.ones(2)  # PyTorch's own dtypes and devices are understood
    assert y.to(torch.float64).dtype == np.float64 and y.to(torch.device("cpu")) is y
    assert y.to(torch.device("cpu"), torch.int64).dtype == np.int64


def test_masked_fill_gives_a_0d_value_tensor_the_gradient_of_the_places_it_fills():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference")
    data, mask = _data((3, 4)), _data((3, 4)) > 0
    x, v = ad.tensor(data, requires_grad=True), ad.tensor(np.float64(0.7), requires_grad=True)
    t, w = torch.tensor(data, requires_grad=True), torch.tensor(0.7, dtype=torch.float64,
                                                                 requires_grad=True)
    (x.masked_fill(mask, v) * ad.tensor(data)).sum().backward()
    (t.masked_fill(torch.tensor(mask), w) * torch.tensor(data)).sum().backward()
    np.testing.assert_allclose(v.grad.data, w.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-15)


def test_view_shares_memory_and_refuses_where_pytorch_refuses():
    torch = pytest.importorskip("torch", reason="PyTorch is the reference")
    data = _data((4, 6))
    cases = [lambda a: a.T, lambda a: a[:, ::2], lambda a: a[1:3], lambda a: a[:, 1:4],
             lambda a: a[None], lambda a: a.T[::2], lambda a: a[:, :1],
             lambda a: a[:1].expand(3, -1), lambda a: a[:, :1].expand(-1, 5),
             lambda a: a.reshape(2, 2, 6).permute(1, 0, 2),
             lambda a: a.reshape(2, 2, 6).permute(0, 2, 1)]
    for make in cases:
        for new in [(-1,), (2, -1), (-1, 2), (1, -1, 1), (3, -1), (-1, 1)]:
            x, t = make(ad.tensor(data)), make(torch.tensor(data))
            if t.numel() % int(np.prod(new)) or not t.numel():
                continue
            try:
                u = t.view(*new)
            except RuntimeError:
                with pytest.raises(RuntimeError, match="view: a tensor of shape"):
                    x.view(*new)
            else:
                y = x.view(*new)
                assert y.shape == tuple(u.shape) and np.shares_memory(y.data, x.data)


# -- without PyTorch: closed forms and gradients ----------------------------------------------

DIFFERENTIABLE = {  # name: (the method applied to a float64 leaf, input shape)
    "view": (lambda x: x.view(2, -1), (2, 3, 2)),
    "view_as": (lambda x: x.view_as(ad.zeros((6, 2))), (3, 4)),
    "reshape_as": (lambda x: x.T.reshape_as(np.zeros(12)), (3, 4)),
    "permute": (lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    "unsqueeze": (lambda x: x.unsqueeze(-2), (2, 3)),
    "expand": (lambda x: x.expand(2, -1, 4), (3, 1)),
    "expand_as": (lambda x: x.expand_as(np.zeros((2, 3))), (3,)),
    "contiguous": (lambda x: x.T.contiguous(), (3, 4)),
    "t": (lambda x: x.t(), (3, 4)),
    "to": (lambda x: x.to("float64", copy=True), (3,)),
    "double": (lambda x: x.double(), (3,)),
    "type_as": (lambda x: x.type_as(np.zeros(1)), (3,)),
    "masked_fill": (lambda x: x.masked_fill(np.array([True, False, True]), 1.0), (2, 3)),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), (3, 4)),
    "flatten": (lambda x: x.flatten(1), (2, 3, 4)),
    "unflatten": (lambda x: x.unflatten(0, (2, -1)), (6, 2)),
    "tile": (lambda x: x.tile(2, 1), (3, 2)),
    "add": (lambda x: x.add(x * x), (3,)),
    "sub": (lambda x: x.sub(x[0]), (3, 2)),
    "mul": (lambda x: x.mul(x), (3,)),
    "div": (lambda x: x.div(x * x + 1), (3,)),
    "pow": (lambda x: (x * x + 1).pow(1.5), (3,)),
    "matmul": (lambda x: x.matmul(x.T), (2, 3)),
    "add alpha": (lambda x: x.add(x * x, alpha=-2), (3,)),
    "index_select": (lambda x: x.index_select(0, np.array([1, 1, 0])), (2, 3)),
    "gather": (lambda x: x.gather(1, np.array([[2, 2], [0, 1]])), (2, 3)),
    "repeat_interleave": (lambda x: x.repeat_interleave(np.array([2, 0, 1]), 1), (2, 3)),
    "chunk": (lambda x: x.chunk(2, 1)[0] * x.chunk(2, 1)[1][:, :1], (2, 3)),
    "narrow": (lambda x: x.narrow(0, 1, 1), (2, 3)),
}


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_gradients(name):
    method, shape = DIFFERENTIABLE[name]
    x = ad.tensor(_data(shape), requires_grad=True)
    assert gradcheck(method, x, modes=("rev", "fwd"))
    assert gradgradcheck(method, x)


def test_shapes_and_values_in_closed_form():
    x = ad.arange(24.0).reshape(2, 3, 4)
    assert x.view(6, 4).tolist() == np.arange(24.0).reshape(6, 4).tolist()
    assert x.permute(2, 0, 1).shape == (4, 2, 3) and x.permute(2, 0, 1)[3, 1, 2].item() == 23
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(3).shape == (2, 3, 4, 1)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.flatten(0, 1).tolist() == np.arange(24.0).reshape(6, 4).tolist()
    assert x.flatten(1).unflatten(1, (3, 4)).tolist() == x.tolist()
    assert ad.flatten(ad.tensor(5.0)).tolist() == [5.0]
    assert ad.tensor([1.0, 2.0]).expand(2, 2).tolist() == [[1.0, 2.0], [1.0, 2.0]]
    assert ad.tensor([1.0, 2.0]).tile(2).tolist() == [1.0, 2.0, 1.0, 2.0]
    assert ad.tensor([[1.0, 2.0]]).t().tolist() == [[1.0], [2.0]]
    assert ad.tensor([1.0, -2.0]).masked_fill(ad.tensor([False, True]), 0).tolist() == [1.0, 0.0]
    assert ad.tensor([-1.0, 0.5, 2.0]).clamp(0, 1).tolist() == [0.0, 0.5, 1.0]
    assert (x.numel(), x.dim(), x.ndimension()) == (24, 3, 3)
    assert [f(ad.tensor([1.0, 2.0]), 2.0).tolist() for f in (ad.Tensor.eq, ad.Tensor.ne,
            ad.Tensor.lt, ad.Tensor.le, ad.Tensor.gt, ad.Tensor.ge)] == [
        [False, True], [True, False], [True, False], [True, True], [False, False], [False, True]]
    assert ad.tensor([1.0, 2.0]).eq(ad.tensor([1.0, 3.0])).dtype == np.bool_


def test_selecting_splitting_and_new_tensors_in_closed_form():
    x = ad.arange(12.0).reshape(3, 4)
    assert x.index_select(1, np.array([3, 0])).tolist() == [[3.0, 0.0], [7.0, 4.0],
                                                            [11.0, 8.0]]
    assert x.gather(0, np.array([[2, 1]])).tolist() == [[8.0, 5.0]]
    assert [c.shape for c in ad.zeros(6).chunk(4)] == [(2,), (2,), (2,)]  # PyTorch's 3, not 4
    assert [c.shape for c in ad.zeros((2, 5)).chunk(2, 1)] == [(2, 3), (2, 2)]
    assert [c.shape for c in ad.zeros(0).chunk(3)] == [(0,)]
    assert ad.tensor([1.0, 2.0]).repeat_interleave(np.array([0, 3])).tolist() == [2.0] * 3
    assert x.narrow(0, -1, 1).tolist() == [[8.0, 9.0, 10.0, 11.0]]
    x.narrow(1, 0, 1).data[0, 0] = 100.0  # a view, as PyTorch's
    assert x[0, 0].item() == 100.0
    y = ad.ones(2, dtype="float32", requires_grad=True)
    for new in (y.new_zeros(2, 3), y.new_ones((2, 3)), y.new_empty(2, 3), y.new_full((2, 3), 4),
                y.new_tensor(np.ones((2, 3), int))):
        assert new.shape == (2, 3) and new.dtype == np.float32 and not new.requires_grad
    assert y.new_zeros(1, dtype="int64", requires_grad=False).dtype == np.int64
    assert y.new_full((1,), 2.5, requires_grad=True).requires_grad
    assert ad.tensor([1.0]).add(ad.tensor([2.0]), alpha=3).tolist() == [7.0]
    assert ad.tensor([1.0]).sub(2.0, alpha=0.5).tolist() == [0.0]


def test_dtypes_and_what_is_returned_itself():
    x = ad.tensor([1.7, -1.7, 0.0])
    assert x.float() is x and x.to("float32") is x and x.to("cpu") is x and x.type_as(x) is x
    assert x.to(x, copy=True) is not x and x.to(copy=True).tolist() == x.tolist()
    assert [x.double().dtype, x.half().dtype, x.long().dtype, x.int().dtype, x.bool().dtype] == [
        np.float64, np.float16, np.int64, np.int32, np.bool_]
    assert x.long().tolist() == [1, -1, 0] and x.bool().tolist() == [True, True, False]
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    h = w.half()
    assert h.requires_grad and not w.long().requires_grad  # an integer result is a constant
    h.sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [1.0, 1.0]
    assert x.contiguous() is x
    c = ad.tensor(_data((3, 4))).T
    assert not c.data.flags.c_contiguous and c.contiguous().data.flags.c_contiguous
    assert x.to(np.float64).dtype == np.float64 and x.to(dtype=np.int8).dtype == np.int8


def test_copy_takes_numpys_order():
    x = ad.tensor(_data((3, 4)), requires_grad=True).T
    for order, c, f in [("C", True, False), ("F", False, True), ("K", False, True),
                        ("A", False, True)]:
        y = x.copy(order)
        assert (y.data.flags.c_contiguous, y.data.flags.f_contiguous) == (c, f), order
        np.testing.assert_array_equal(y.data, x.data.copy(order))
    assert x.copy().data.flags.c_contiguous == x.data.copy().flags.c_contiguous
    with pytest.raises(ValueError, match="copy: order must be 'C', 'F', 'A' or 'K', got 'X'"):
        x.copy("X")


def test_view_writes_show_in_both():
    x = ad.zeros((2, 3))
    v = x.view(-1)
    v[4] = 7.0
    assert x[1, 1].item() == 7.0 and x._version == v._version == 1


# -- refused calls: each names the method and says what to write -------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: x.T.view(-1), RuntimeError, r"view: a tensor of shape \(3, 2\) with strides .* "
     r"cannot be viewed as \(-1,\) without copying; use \.reshape\(-1\)"),
    (lambda x: x.view(4, 2), ValueError, r"view: shape \(4, 2\) does not fit a tensor of shape "
     r"\(2, 3\) \(6 elements\)"),
    (lambda x: x.view("float32"), TypeError, "view: reinterpreting the bytes as 'float32'"),
    (lambda x: x.view(np.int32), TypeError, "view: reinterpreting the bytes"),
    (lambda x: x.permute(1), ValueError, r"permute: 1 axes \(1,\) for a tensor of 2 dimensions"),
    (lambda x: x.permute(0, 0), ValueError, "permute: repeated axis"),
    (lambda x: x.permute(0, 2), np.exceptions.AxisError, "permute: axis 2 is out of bounds"),
    (lambda x: x.unsqueeze(3), np.exceptions.AxisError, "expand_dims: axis 3 is out of bounds"),
    (lambda x: x.unsqueeze((0, 1)), TypeError, r"unsqueeze: axis must be an integer, got \(0, 1\)"),
    (lambda x: x.unsqueeze(dim=0), TypeError, r"unsqueeze: this library uses NumPy's axis= "
     r"\(axis=0\), not dim="),
    (lambda x: x.expand(3), ValueError, r"expand: 1 sizes \(3,\) for a tensor of 2 dimensions"),
    (lambda x: x.expand(-1, 2, 3), ValueError, "expand: -1 in sizes .* new dimension"),
    (lambda x: x.expand(4, 3), ValueError, r"expand: a tensor of shape \(2, 3\) cannot be "
     r"expanded to \(4, 3\)"),
    (lambda x: x.to("cuda"), RuntimeError, "to: this library computes with NumPy on the CPU; "
     "device 'cuda' is not available"),
    (lambda x: x.to("mps:0"), RuntimeError, "device 'mps:0' is not available"),
    (lambda x: x.to("no such thing"), TypeError, "to: expected a dtype, a device"),
    (lambda x: x.to(None), TypeError, "to: expected a dtype, a device"),
    (lambda x: x.to(dtype="cpu"), TypeError, "to: dtype= must be a dtype, got 'cpu'"),
    (lambda x: x.to(device="cuda:1"), RuntimeError, "device 'cuda:1' is not available"),
    (lambda x: x.cuda(), RuntimeError, "cuda: this library computes with NumPy on the CPU"),
    (lambda x: x.masked_fill(x, 1.0), TypeError, "masked_fill: mask must be boolean, got dtype "
     "float32"),
    (lambda x: x.masked_fill(x > 0, ad.ones(2)), ValueError, r"masked_fill: value must be a "
     r"number or a 0-d tensor, got shape \(2,\)"),
    (lambda x: x.masked_fill(np.ones(4, bool), 1.0), ValueError, "where"),
    (lambda x: x.clamp(), ValueError, "clamp: give min or max"),
    (lambda x: ad.ones((2, 2, 2)).t(), ValueError, r"t: a tensor of at most 2 dimensions, got "
     r"shape \(2, 2, 2\)"),
    (lambda x: x.flatten(1, 0), ValueError, "flatten: start_dim 1 comes after end_dim 0"),
    (lambda x: x.flatten(2), np.exceptions.AxisError, "flatten: axis 2 is out of bounds"),
    (lambda x: x.flatten("X"), ValueError, "ravel: order must be"),
    (lambda x: x.unflatten(1, (2, 2)), ValueError, r"unflatten: sizes \(2, 2\) do not split "
     r"axis 1 of size 3"),
    (lambda x: x.unflatten(1, (-1, -1)), ValueError, "unflatten: sizes"),
    (lambda x: x.unflatten(1, ()), ValueError, "unflatten: sizes"),
    (lambda x: x.unflatten(1, (0, -1)), ValueError, "unflatten: sizes"),
    (lambda x: x.unflatten(1, "ab"), TypeError, "unflatten: sizes must be a sequence of integers"),
    (lambda x: x.unflatten(dim=1, sizes=(3, 1)), TypeError, "unflatten: this library uses "
     "NumPy's axis="),
    (lambda x: x.tile(-1), ValueError, "tile: reps must be >= 0"),
    (lambda x: x.index_select(0, np.zeros((1, 1), int)), IndexError, r"index_select: index must "
     r"be a 0-d or 1-D integer tensor, got shape \(1, 1\)"),
    (lambda x: x.index_select(0, np.zeros(1)), IndexError, "index_select: .* dtype float64"),
    (lambda x: x.index_select(0, np.array([2])), IndexError, "2"),
    (lambda x: x.gather(1, np.zeros(2, int)), RuntimeError, r"gather: index of shape \(2,\)"),
    (lambda x: x.gather(1, np.zeros((3, 1), int)), RuntimeError, r"no axis longer than self's "
     r"\(2, 3\) except axis 1"),
    (lambda x: x.gather(1, np.zeros((2, 1))), RuntimeError, "dtype float64"),
    (lambda x: x.gather(dim=1, index=np.zeros((2, 1), int)), TypeError, "gather: this library "
     "uses NumPy's axis= \\(axis=1\\)"),
    (lambda x: x.chunk(0), RuntimeError, "chunk: chunks must be greater than 0, got 0"),
    (lambda x: ad.tensor(1.0).chunk(1), RuntimeError, "chunk: expects at least a 1-dimensional"),
    (lambda x: x.chunk(2, 2), np.exceptions.AxisError, "chunk: axis 2 is out of bounds"),
    (lambda x: x.narrow(1, 2, 2), IndexError, "narrow: start 2 and length 2 do not fit axis 1 "
     "of length 3"),
    (lambda x: x.narrow(0, 0, -1), IndexError, "narrow: start 0 and length -1"),
])
def test_refused_calls_say_what_to_write(call, error, message):
    x = ad.ones((2, 3))
    with pytest.raises(error, match=message):
        call(x)


# -- where ndarray has the name: NumPy's meaning, and the PyTorch spelling explains itself ------

def test_repeat_is_numpys_and_pytorchs_spelling_points_to_tile():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.repeat(2, axis=1).tolist() == [[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 4.0, 4.0]]
    assert ad.tensor([1.0, 2.0]).repeat(2).tolist() == [1.0, 1.0, 2.0, 2.0]  # not PyTorch's
    with pytest.raises(TypeError, match=r"repeat: t.repeat\(2, 1\) is PyTorch's spelling, which "
                                        r"tiles the whole tensor: that is t.tile\(2, 1\) here.*"
                                        r"t.repeat\(2, axis=1\)"):
        x.repeat(2, 1)
    with pytest.raises(TypeError, match=r"t.tile\(1, 2, 3\)"):
        x.repeat(1, 2, 3)
    with pytest.raises(ValueError, match=r"repeat: repeats of shape \(2,\) do not fit .* is "
                                         r"t.tile\(sizes\) here"):
        x.repeat((2, 1))
    assert x.tile(2, 1).tolist() == [[1.0, 2.0], [3.0, 4.0], [1.0, 2.0], [3.0, 4.0]]
    assert np.repeat(x, 2, 0).shape == (4, 2)  # NumPy's function: NumPy's positional axis


def test_transpose_of_two_axes_is_numpys_and_warns_where_pytorch_would_swap():
    x = ad.tensor([[1.0, 2.0, 3.0]])
    for axes in [(0, 1), (-2, -1), (0, -1)]:
        with pytest.warns(UserWarning, match=r"leaves its axes where they are.*t.T or "
                                             r"t.swapaxes\(0, 1\).*t.transpose\(\(0, 1\)\)"):
            assert x.transpose(*axes).shape == (1, 3)  # NumPy's: the order of all the axes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.transpose((0, 1)).shape == (1, 3) and x.transpose(1, 0).shape == (3, 1)
        assert x.transpose().shape == (3, 1) and x.swapaxes(0, 1).shape == (3, 1)
    with pytest.raises(ValueError, match=r"not a permutation of the 3 axes .* \(PyTorch's "
                                         r"transpose\(dim0, dim1\) swaps two axes: that is "
                                         r"swapaxes\(dim0, dim1\) here"):
        ad.ones((2, 3, 4)).transpose(1, 2)


def test_squeeze_is_numpys_and_says_how_pytorchs_differs():
    x = ad.ones((2, 1, 3))
    assert x.squeeze(1).shape == (2, 3) and x.squeeze().shape == (2, 3)
    with pytest.raises(ValueError, match=r"squeeze: axis 0 of shape \(2, 1, 3\) does not have "
                                         r"size 1 \(NumPy's squeeze refuses it; PyTorch's "
                                         r"squeeze\(dim\) would leave it as it is\)"):
        x.squeeze(0)


def test_flatten_given_an_order_is_numpys():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.flatten("F").tolist() == [1.0, 3.0, 2.0, 4.0]
    assert x.flatten(order="F").tolist() == [1.0, 3.0, 2.0, 4.0]
    assert x.flatten().tolist() == x.data.flatten().tolist()  # both libraries agree


def test_the_methods_are_the_tensors_and_not_functions_of_the_package():
    for name in pytorch_methods.METHODS:
        assert registry.METHODS[name] is getattr(ad.Tensor, name)
        assert name in ("add", "sub", "mul", "div", "pow", "matmul") or not hasattr(ad, name), \
            name
    assert ad.flatten is registry.OPS["flatten"].fn and ad.unflatten is registry.OPS[
        "unflatten"].fn
