"""In-place writes through views (autodiff/views.py): writing into a view rebases its base's
graph, and a view whose base was written is replayed on the base's new value, as PyTorch.
Hand-computed gradients, gradcheck and gradgradcheck here; PyTorch itself on seeded random
programs of views, writes and reads (when it is installed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import autodiff as ad
from autodiff.testing import gradcheck, gradgradcheck


def leaf(values: Any) -> ad.Tensor:
    return ad.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# -- writing into a view, then using the base -------------------------------------------------

def test_a_write_into_a_view_reaches_the_base_s_gradient():
    x = leaf([1.0, 2.0, 3.0, 4.0])
    a = x * 1
    v = a[1:]
    v.mul_(2)
    np.testing.assert_array_equal(a.data, [1.0, 4.0, 6.0, 8.0])
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 2.0, 2.0, 2.0])


def test_an_augmented_write_into_a_row_of_a_copy():
    x = leaf(np.arange(6.0).reshape(2, 3))
    w = leaf(3.0)
    a = x.clone()
    a[0] *= w  # a[0] is a view: written in place, then assigned back
    (a * a).sum().backward()
    row = x.data[0]
    np.testing.assert_allclose(x.grad.data, [2 * 9 * row, 2 * x.data[1]])
    np.testing.assert_allclose(w.grad.item(), (2 * 3 * row * row).sum())


def test_a_view_s_other_operand_gets_its_gradient_and_the_rest_passes_unchanged():
    x = leaf(np.arange(1.0, 7.0).reshape(2, 3))
    y = leaf([10.0, 20.0])
    a = x * 2
    col = a[:, 1]
    col.add_(y)  # a[:, 1] = 2 x[:, 1] + y
    (a * a).sum().backward()
    expect = 2 * 2 * x.data * 2  # d(a^2)/dx = 2a * 2, with a = 2x outside the column
    expect[:, 1] = 2 * (2 * x.data[:, 1] + y.data) * 2
    np.testing.assert_allclose(x.grad.data, expect)
    np.testing.assert_allclose(y.grad.data, 2 * (2 * x.data[:, 1] + y.data))


def test_a_chain_of_views_of_views():
    x = leaf(np.arange(12.0).reshape(3, 4))
    a = x * 1
    v = a[1:].reshape(2, 2, 2).transpose((2, 0, 1))[0]  # a[1:, ::2] in some order
    v.mul_(3)
    a.sum().backward()
    expect = np.ones((3, 4))
    expect[1:, ::2] = 3
    np.testing.assert_array_equal(x.grad.data, expect)
    np.testing.assert_array_equal(a.data, x.data * expect)


def test_several_writes_through_several_views():
    x = leaf(np.arange(1.0, 7.0))
    a = x * 1
    first, last = a[:4], a[2:]
    first.mul_(2)  # a[:4] *= 2
    last.mul_(3)  # a[2:] *= 3: a[2:4] has both factors
    a.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2, 2, 6, 6, 3, 3])
    np.testing.assert_array_equal(a.data, x.data * [2, 2, 6, 6, 3, 3])


def test_a_write_through_one_view_read_through_another():
    x = leaf(np.arange(1.0, 7.0).reshape(2, 3))
    a = x * 1
    row, col = a[0], a[:, 2]
    row.mul_(5)  # a[0, 2] is in both
    (col * col).sum().backward()  # col = [5 x02, x12]
    np.testing.assert_array_equal(col.data, [15.0, 6.0])
    np.testing.assert_allclose(x.grad.data, [[0, 0, 2 * 15 * 5], [0, 0, 2 * 6]])


# -- writing into the base, then using a view -------------------------------------------------

def test_a_view_of_a_base_written_in_place_follows_the_base():
    x = leaf(np.arange(6.0).reshape(3, 2))
    y = leaf(np.ones((3, 2)))
    a = x * 1
    v = a[:, 0]
    a.add_(y)
    (v * v).sum().backward()
    grad = np.zeros((3, 2))
    grad[:, 0] = 2 * (x.data[:, 0] + 1)
    np.testing.assert_allclose(x.grad.data, grad)
    np.testing.assert_allclose(y.grad.data, grad)


def test_a_view_written_after_its_base_was_written():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 1
    v = a.reshape(3, 1)[1:]
    a.mul_(2)
    v.mul_(5)  # replayed first (a[1:] = 2x), then written
    a.sum().backward()
    np.testing.assert_array_equal(a.data, [2.0, 20.0, 30.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 10.0, 10.0])


def test_backward_from_a_view_whose_base_was_written():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 2
    v = a[:2]
    a.mul_(3)
    v.backward(ad.tensor([1.0, 10.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.data, [6.0, 60.0, 0.0])


def test_a_view_of_a_leaf_updated_under_no_grad_reads_the_new_values():
    x = leaf([1.0, 2.0, 3.0])
    v = x[1:]
    with ad.no_grad():
        x.mul_(2)  # an optimizer step: v shows the new values, and its graph follows
    (v * v).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 8.0, 12.0])


def test_retain_grad_on_a_base_follows_it_through_a_write_into_a_view():
    x = leaf([1.0, 2.0])
    a = x * 1
    a.retain_grad()
    a[1:].mul_(3)
    (a * a).sum().backward()
    np.testing.assert_array_equal(a.grad.data, 2 * a.data)


def _program(x: ad.Tensor, w: ad.Tensor) -> ad.Tensor:
    a = x * 1
    top, right = a[0], a[:, 1:].T
    top.mul_(w)
    right.add_(top[1:].reshape(2, 1) + w)  # reads the view just written
    a[1, 0] = a[0, 0] * a[1, 1]
    a.T[1:].mul_(a[1].sum())  # the base read while a view of it is written
    return (a * right.sum()).tanh()


def test_gradients_and_second_gradients_of_a_program_of_views():
    rng = np.random.default_rng(0)
    x, w = leaf(rng.uniform(0.5, 1.5, (2, 3))), leaf(0.7)
    assert gradcheck(_program, x, w)
    assert gradgradcheck(_program, x, w)


# -- where replay is not exact: the clear error stays -----------------------------------------

def test_a_base_written_under_no_grad_still_refuses_its_views():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 2
    v = a[:2]
    with ad.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match=r"'sum' got a tensor of shape \(2,\) made by "
                                           r"'getitem' whose memory was modified in place"):
        v.sum()


def test_memory_shared_through_detach_is_refused():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 2
    d = a.detach()
    d[0] = 5.0  # the engine sees the write but has no graph for it
    with pytest.raises(RuntimeError, match="modified in place after it was made"):
        a.sum()


class _Same(ad.Function):
    """Returns its input's array itself: it shares memory, but is not a pure view op."""

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


def test_memory_shared_by_a_function_that_is_not_a_view_op_is_refused():
    x = leaf([1.0, 2.0])
    a = x * 1
    s = _Same.apply(a)
    s.mul_(3)  # s's graph is written; a's cannot be replayed through _Same
    with pytest.raises(RuntimeError, match="made by 'mul' whose memory was modified"):
        a.sum()


def test_a_view_of_a_leaf_is_still_not_written_in_place():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="is a view of a leaf tensor that requires grad"):
        x[1:].mul_(2)


def test_positions_refuses_another_dtype_and_memory_outside_the_base():
    from autodiff.views import positions
    b = np.arange(6.0)
    assert positions(b.view(np.int64), b) is None
    assert positions(np.arange(3.0), b) is None
    assert positions(b[:0], b).shape == (0,)
    np.testing.assert_array_equal(positions(b[::-2], b), [5, 3, 1])
    strided = np.arange(12.0).reshape(3, 4)[:, ::2]  # a base that is not contiguous
    np.testing.assert_array_equal(positions(strided.T[1], strided), [1, 3, 5])
    assert positions(np.arange(12.0)[1:], strided) is None


# -- seeded random programs ---------------------------------------------------------------------

class _Engine:
    """The few calls where this engine and PyTorch are spelled differently."""

    def __init__(self, torch: Any = None) -> None:
        self.torch = torch

    def const(self, values: np.ndarray) -> Any:
        return ad.tensor(values) if self.torch is None else self.torch.tensor(values)

    def reversed_axes(self, t: Any) -> Any:
        return t.T if self.torch is None else t.permute(*reversed(range(t.ndim)))


def _random_program(seed: int, steps: int = 8) -> list[tuple[Any, ...]]:
    """A list of steps over a (3, 4) base: views of live tensors, writes into them, reads."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4)]  # of the live tensors: 0 is the base
    prog: list[tuple[Any, ...]] = []
    for _ in range(steps):
        i = int(rng.integers(len(shapes)))
        shape = shapes[i]
        kind = rng.choice(["view", "view", "write", "write", "read"])
        if kind == "view":
            axis = int(rng.integers(len(shape)))
            choice = rng.choice(["slice", "int", "T", "reshape"])
            if choice == "slice" and shape[axis] >= 2:
                start = int(rng.integers(shape[axis] - 1))
                step = int(rng.integers(1, 3))
                index = (slice(None),) * axis + (slice(start, None, step),)
                prog.append(("view", i, "index", index))
                shapes.append((*shape[:axis], len(range(start, shape[axis], step)),
                               *shape[axis + 1:]))
            elif choice == "int" and len(shape) >= 2:
                k = int(rng.integers(shape[axis]))
                prog.append(("view", i, "index", (slice(None),) * axis + (k,)))
                shapes.append(shape[:axis] + shape[axis + 1:])
            elif choice == "T" and len(shape) >= 2:
                prog.append(("view", i, "T"))
                shapes.append(shape[::-1])
            else:  # reshape: flatten, or a new axis of 1
                new = (int(np.prod(shape)),) if rng.random() < 0.5 else (
                    (*shape[:axis], 1, *shape[axis:]))
                prog.append(("view", i, "reshape", new))
                shapes.append(new)
        elif kind == "write":
            how = rng.choice(["mul_", "add_", "setitem", "neg_", "add_view"])
            j = int(rng.integers(len(shapes)))
            prog.append(("write", i, str(how), j, rng.uniform(0.5, 1.5, shape)))
        else:
            prog.append(("read", i, rng.uniform(-1, 1, shape)))
    return prog


def _run(prog: list[tuple[Any, ...]], e: _Engine, x: Any, w: Any) -> tuple[Any, Any]:
    """Run a program on the leaves x and w; returns (the loss, the base)."""
    base = x * 1
    live = [base]
    loss = (base * e.const(np.full(tuple(x.shape), 0.3))).sum()
    for step in prog:
        t = live[step[1]]
        if step[0] == "view":
            if step[2] == "index":
                live.append(t[step[3]])
            elif step[2] == "T":
                live.append(e.reversed_axes(t))
            else:  # a view where the memory allows one (both engines copy alike otherwise)
                live.append(t.reshape(step[3]))
        elif step[0] == "write":
            how, other, c = step[2], live[step[3]], e.const(step[4])
            if how == "mul_":
                t.mul_(w * c)
            elif how == "add_":
                t.add_(c * w * w)
            elif how == "setitem":
                t[...] = (t * c + w)[...]
            elif how == "neg_":
                t.neg_()
            else:  # another live tensor's value, read before the write
                t.add_(other.sum() * c)
        else:
            loss = loss + (t * e.const(step[2])).sum() + t.tanh().sum() * 0.1
    loss = loss + base.tanh().sum()
    return loss, base


@pytest.mark.parametrize("seed", range(6))
def test_random_programs_of_views_pass_gradcheck(seed):
    prog = _random_program(seed)
    rng = np.random.default_rng(1000 + seed)
    x, w = leaf(rng.uniform(-1, 1, (3, 4))), leaf(rng.uniform(0.5, 1.0))
    assert gradcheck(lambda x, w: _run(prog, _Engine(), x, w)[0], x, w)


def _compare_with_pytorch(torch: Any, seeds: range, steps: int) -> None:
    for seed in seeds:
        prog = _random_program(seed, steps)
        rng = np.random.default_rng(seed)
        x0, w0 = rng.uniform(-1, 1, (3, 4)), np.array(rng.uniform(0.5, 1.0))
        x, w = leaf(x0), leaf(w0)
        tx, tw = torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)
        loss, base = _run(prog, _Engine(), x, w)
        tloss, tbase = _run(prog, _Engine(torch), tx, tw)
        loss.backward()
        tloss.backward()
        np.testing.assert_allclose(base.data, tbase.detach().numpy(), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        if tw.grad is None:  # no write used w
            assert w.grad is None
        else:
            np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("chunk", range(4))
def test_random_programs_of_views_match_pytorch(chunk):
    torch = pytest.importorskip("torch", reason="the comparison needs PyTorch")
    _compare_with_pytorch(torch, range(chunk * 50, chunk * 50 + 50), steps=10)


@pytest.mark.slow
def test_longer_random_programs_of_views_match_pytorch():
    torch = pytest.importorskip("torch", reason="the comparison needs PyTorch")
    _compare_with_pytorch(torch, range(10_000, 10_600), steps=16)


def test_a_replayed_view_of_a_leaf_is_still_not_written_in_place():
    x = leaf([1.0, 2.0, 3.0])
    v = x[1:]
    with ad.no_grad():
        x.mul_(2)
    v.sum()  # replayed on x's new values
    with pytest.raises(RuntimeError, match="is a view of a leaf tensor that requires grad"):
        v.mul_(2)
    assert x.is_leaf and x.data.tolist() == [2.0, 4.0, 6.0]


def test_retain_grad_on_a_view_follows_it_when_it_is_replayed():
    x = leaf([1.0, 2.0, 3.0])
    a = x * 1
    v = a[1:]
    v.retain_grad()
    a.mul_(2)
    (v * v).sum().backward()
    np.testing.assert_array_equal(v.grad.data, 2 * v.data)


# -- a base that did not require grad: a write gives it a graph ---------------------------------

def test_a_write_into_a_view_of_a_constant_gives_the_constant_a_graph():
    w = leaf([2.0, 3.0])
    a = ad.zeros(3, dtype="float64")
    row = a[1:]
    row.add_(w * w)  # a = [0, w0^2, w1^2]
    assert a.requires_grad and not a.is_leaf
    (a * ad.tensor([1.0, 10.0, 100.0], dtype="float64")).sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2 * 2.0 * 10, 2 * 3.0 * 100])



def test_a_reshape_that_copied_is_not_a_view_of_its_input():
    x = leaf(np.arange(6.0).reshape(2, 3))
    a = x * 1
    c = a.T.reshape(6)  # transposed memory: the reshape copies, as NumPy's
    c.mul_(2)
    np.testing.assert_array_equal(a.data, x.data)  # a is not written, and stays usable
    (a.sum() + c.sum()).backward()
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 3.0))
    with ad.no_grad():
        c.add_(1)
    with pytest.raises(RuntimeError, match="modified in place after it was made"):
        c.sum()  # its graph cannot be replayed on a: it does not show a's memory


def test_a_view_of_a_reshape_that_copied_writes_into_the_copy():
    x = leaf(np.arange(6.0).reshape(2, 3))
    a = x * 1
    c = a.T.reshape(6)  # a copy
    head = c[:3]  # a view of the copy, not of a
    head.mul_(2)
    (c * c).sum().backward()  # c = [2 x00, 2 x10, 2 x01, x11, x02, x12]
    expect = 2 * x.data * [[4, 4, 1], [4, 1, 1]]
    np.testing.assert_array_equal(x.grad.data, expect)
