"""In-place writes: version counters, saved tensors that were overwritten, PyTorch's in-place
methods on leaves and non-leaves, and the course's hand-written update."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck

SAVED = r"needed by the backward of '{op}' \(shape \({shape}\)\) was modified in place after it " \
        r"was saved \(version {a} -> {b}\)"


def test_writing_a_saved_constant_raises_instead_of_a_wrong_gradient():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    y = (w * c).sum()
    c[0] = 100.0
    with pytest.raises(RuntimeError, match=SAVED.format(op="mul", shape="2,", a=0, b=1)):
        y.backward()
    assert w.grad is None


def test_an_optimizer_step_between_forward_and_backward_raises():
    layer = nn.Linear(3, 2)
    opt = nn.optim.SGD(layer.parameters(), lr=0.1)
    x = ad.ones((4, 3))
    layer(x).sum().backward()
    loss = (layer(x) ** 2).sum()  # saves the weight
    opt.step()  # writes it
    with pytest.raises(RuntimeError, match="modified in place after it was saved"):
        loss.backward()


@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: nn.optim.Adam(ps, lr=0.1),
    lambda ps: nn.optim.AdamW(ps, lr=0.1),
    lambda ps: nn.optim.RMSprop(ps, lr=0.1),
    lambda ps: nn.optim.Adagrad(ps, lr=0.1),
])
def test_every_optimizer_step_bumps_the_versions_it_writes(make):
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    unused = ad.tensor([1.0], requires_grad=True)
    opt = make([w, unused])
    (w * w).sum().backward()
    opt.step()
    assert w._version == 1 and unused._version == 0  # no gradient: not written


def test_writing_a_saved_output_raises():
    x = ad.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    y[0] = 0.0  # recorded on y, but exp's saved output is y's memory
    with pytest.raises(RuntimeError, match=SAVED.format(op="exp", shape="2,", a=0, b=1)):
        y.sum().backward()


def test_the_error_names_the_line_under_anomaly_mode():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    with ad.detect_anomaly():
        y = (w * c).sum()  # the op's line
    c += 1
    with pytest.raises(RuntimeError, match=r"created at .*test_inplace.py.*the op's line"):
        y.backward()


def test_views_and_detach_share_the_version_of_their_memory():
    c = ad.tensor([1.0, 2.0, 3.0])
    view, cut = c[1:], c.detach()
    c.mul_(2)
    assert c._version == view._version == cut._version == 1
    assert view.tolist() == [4.0, 6.0]  # in place: the view sees the new values
    other = ad.tensor([1.0, 2.0, 3.0])
    assert other._version == 0


def test_writes_through_data_are_not_seen_as_in_pytorch():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    y = (w * c).sum()
    c.data[0] = 100.0  # bypasses the counter: documented
    assert c._version == 0
    y.backward()
    np.testing.assert_array_equal(w.grad.data, [100.0, 4.0])


def test_a_leaf_that_requires_grad_is_written_only_under_no_grad():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    for write in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.__isub__(1)):
        with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad \(shape \(2,\)\)"):
            write()
    assert w.tolist() == [1.0, 2.0] and w._version == 0
    with ad.no_grad():
        same = w.mul_(3)
    assert same is w and w.tolist() == [3.0, 6.0] and w.requires_grad and w.is_leaf


def test_the_course_update_keeps_w_a_leaf_that_requires_grad():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 20)).astype(np.float32)
    Y = (rng.random((1, 20)) > 0.5).astype(np.float32)
    W = ad.tensor(rng.standard_normal((1, 3)) * 0.1, dtype="float32", requires_grad=True)
    b = ad.zeros((1, 1), requires_grad=True)
    ident, costs = id(W), []
    for _ in range(50):
        A = ad.sigmoid(W @ X + b)
        cost = -(Y * ad.log(A) + (1 - Y) * ad.log(1 - A)).mean()
        cost.backward()
        with ad.no_grad():
            W -= 0.5 * W.grad
            b -= 0.5 * b.grad
        W.grad = b.grad = None
        costs.append(cost.item())
    assert id(W) == ident and W.is_leaf and W.requires_grad and W.dtype == np.float32
    assert costs[-1] < costs[0]


def test_in_place_on_a_non_leaf_is_recorded():
    x = ad.tensor([0.5, -1.5, 2.0], requires_grad=True)
    y = x * 2
    same = y.add_(1)
    y.mul_(x)  # (2x + 1) x: the mul saves a copy of y's old value
    assert same is y and y.grad_fn is not None
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 4 * x.data + 1)


def test_in_place_with_itself_as_the_operand():
    x = ad.tensor([0.5, -1.5, 2.0], requires_grad=True)
    y = x * 1.0
    y *= y
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_a_constant_that_starts_to_depend_on_a_tensor_requiring_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    acc = ad.zeros(2)
    for k in range(3):
        acc += x * k
    assert acc.requires_grad and not acc.is_leaf
    acc.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_setitem_on_a_non_leaf_sends_gradients_to_both_sides():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = ad.tensor(10.0, requires_grad=True)
    y = x * 1.0
    y[1] = v
    (y * ad.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0, 3.0])
    assert v.grad.item() == 2.0


@pytest.mark.parametrize("name, write, ref", [
    ("add_", lambda t, o: t.add_(o, alpha=2.0), lambda a, o: a + 2 * o),
    ("sub_", lambda t, o: t.sub_(o), lambda a, o: a - o),
    ("mul_", lambda t, o: t.mul_(o), lambda a, o: a * o),
    ("div_", lambda t, o: t.div_(o), lambda a, o: a / o),
    ("iadd", lambda t, o: t.__iadd__(o), lambda a, o: a + o),
    ("isub", lambda t, o: t.__isub__(o), lambda a, o: a - o),
    ("imul", lambda t, o: t.__imul__(o), lambda a, o: a * o),
    ("itruediv", lambda t, o: t.__itruediv__(o), lambda a, o: a / o),
    ("ipow", lambda t, o: t.__ipow__(o), lambda a, o: a ** o),
    ("neg_", lambda t, o: t.neg_(), lambda a, o: -a),
    ("clamp_", lambda t, o: t.clamp_(-0.5, 1.0), lambda a, o: np.clip(a, -0.5, 1.0)),
    ("copy_", lambda t, o: t.copy_(o), lambda a, o: np.broadcast_to(o, a.shape)),
    ("fill_", lambda t, o: t.fill_(o[0]), lambda a, o: np.full_like(a, o[0])),
    ("zero_", lambda t, o: t.zero_(), lambda a, o: np.zeros_like(a)),
    ("setitem", lambda t, o: t.__setitem__((slice(None), 1), o[0]),
     lambda a, o: np.concatenate([a[:, :1], np.full((2, 1), o[0]), a[:, 2:]], axis=1)),
])
def test_in_place_values_and_gradients_to_second_order(name, write, ref):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 1.5, (2, 3))
    o = rng.uniform(0.5, 1.5, (3,))

    def f(x, other):
        y = x * 1.0  # a non-leaf: the in-place op is recorded
        write(y, other)
        return y

    x = ad.tensor(a, requires_grad=True)
    other = ad.tensor(o, requires_grad=True)
    np.testing.assert_allclose(f(x, other).data, ref(a, o), rtol=1e-12)
    assert gradcheck(f, x, other)
    assert gradgradcheck(f, x, other)
    with ad.no_grad():  # and the direct write: same values
        t = ad.tensor(a.copy())
        write(t, ad.tensor(o))
    np.testing.assert_allclose(t.data, ref(a, o), rtol=1e-12)
    assert t._version == 1


def test_imatmul():
    a = ad.tensor(np.eye(2) * 2.0)
    m = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a @= m
    assert a.tolist() == [[2.0, 4.0], [6.0, 8.0]] and a.requires_grad
    a.sum().backward()
    np.testing.assert_array_equal(m.grad.data, [[2.0, 2.0], [2.0, 2.0]])


def test_a_view_of_a_tensor_written_in_place_follows_it_as_pytorch():
    # (it was refused; autodiff/views.py replays the view on its base's new value)
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    v = y[:2]
    y.mul_(3)
    v.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [6.0, 6.0, 0.0])


def test_a_non_leaf_written_under_no_grad_is_refused_later():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with ad.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified in place after it was made"):
        (y * 3).sum()


def test_retain_grad_follows_the_tensor_to_its_new_value():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.mul_(3)
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.data, 2 * y.data)


def test_where_and_index_arrays_are_copied_so_later_writes_do_not_leak_into_backward():
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    mask = ad.tensor([True, False, True])
    idx = np.array([0, 0, 2])
    y = ad.where(mask, x, 0.0).sum() + x[idx].sum()
    mask[0] = False
    idx[0] = 1
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 2.0])


def test_clear_errors():
    with pytest.raises(TypeError, match=r"add_: the result cannot be written into a tensor of "
                                        r"dtype int64"):
        t = ad.tensor(np.array([1, 2]))
        t += 0.5
    with pytest.raises(ValueError, match=r"add_: a tensor of shape \(3,\) cannot hold"):
        ad.zeros(3).add_(ad.ones((2, 3)))
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"add_: the result has shape \(2, 3\) but the tensor "
                                         r"being written has shape \(3,\)"):
        (x * 1.0).add_(ad.ones((2, 3)))
    with pytest.raises(ValueError, match="read-only"):
        ad.broadcast_to(ad.ones(3), (2, 3)).zero_()
    with pytest.raises(ValueError, match="more than once"):
        y = x * 1.0
        y[[0, 0]] = ad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"fill_: the value must be a number or a 0-d tensor"):
        ad.zeros(3).fill_(ad.ones(3))
    with pytest.raises(ValueError, match="clamp_: give min, max or both"):
        ad.zeros(3).clamp_()
    with pytest.raises(TypeError, match="increment_version: expected a Tensor"):
        ad.increment_version(np.zeros(3))


def test_an_interrupted_write_still_counts_as_a_write():
    from autodiff.inplace import _writing

    c = ad.tensor([3.0, 4.0])
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (w * c).sum()
    with pytest.raises(KeyboardInterrupt), _writing(c, "test"):
        c.data[0] = 100.0  # written, then interrupted before the write was recorded
        raise KeyboardInterrupt
    assert c._version == 1
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_a_write_numpy_refused_is_not_counted():
    t = ad.tensor(np.array([1, 2]))
    with pytest.raises(TypeError):
        t += 0.5
    with pytest.raises(IndexError, match=r"setitem: cannot write .* into index 5"):
        t[5] = 1
    assert t._version == 0 and t.tolist() == [1, 2]


@pytest.mark.parametrize("write, ref", [
    (lambda t, o: t.__imod__(o), np.remainder),
    (lambda t, o: t.__ifloordiv__(o), np.floor_divide),
])
def test_mod_and_floordiv_in_place_keep_the_tensor(write, ref):
    a = np.array([5.5, -3.25, 7.0])
    t = ad.tensor(a.copy())
    same = write(t, 2.0)
    assert same is t and t._version == 1
    np.testing.assert_array_equal(t.data, ref(a, 2.0))
    x = ad.tensor(a.copy(), requires_grad=True)
    y = x * 1.0
    write(y, 2.0)
    y.sum().backward()  # remainder: gradient 1; floor_divide: 0
    np.testing.assert_array_equal(x.grad.data, np.ones(3) if ref is np.remainder else np.zeros(3))


@pytest.mark.parametrize("view", [
    lambda x: x[:1],                       # a slice
    lambda x: x.T[1],                      # a view of a view
    lambda x: x.reshape(-1),               # reshape of contiguous memory
    lambda x: ad.split(x, 2, axis=0)[0],   # one output of several
])
def test_a_view_of_a_leaf_that_requires_grad_is_not_written_in_place(view):
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = view(x)
    with pytest.raises(RuntimeError, match=r"setitem: this tensor .* is a view of a leaf"):
        v[0] = 10.0
    with pytest.raises(RuntimeError, match=r"add_: this tensor .* is a view of a leaf"):
        v += 1.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]] and x._version == 0
    with ad.no_grad():  # allowed there, as PyTorch: the leaf itself may be written there
        v[0] = 10.0
    assert x._version == 1 and 10.0 in x.data


def test_a_transform_never_writes_into_the_caller_s_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)

    def f(y):  # y is the transform's own input: it passes x's memory on
        y[0] = 0.0
        return (y * y).sum()

    with pytest.raises(RuntimeError, match="view of a leaf"):
        ad.grad(f)(x)
    assert x.tolist() == [1.0, 2.0]


def test_a_copy_of_a_leaf_is_written_in_place_as_any_tensor():
    x = ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = x[[1, 0]]  # advanced indexing copies
    v[0] = 10.0
    (v * ad.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[3.0, 4.0], [0.0, 0.0]])
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_an_integer_tensor_refuses_a_value_that_requires_grad():
    t = ad.tensor(np.array([1, 2, 3]))
    v = ad.tensor(2.5, requires_grad=True)
    with pytest.raises(TypeError, match="setitem: a tensor of dtype int64 cannot hold a value "
                                        "that requires grad"):
        t[0] = v
    with pytest.raises(TypeError, match="copy_: a tensor of dtype int64"):
        t.copy_(ad.ones(3, requires_grad=True))
    assert t.tolist() == [1, 2, 3] and t._version == 0
    t[0] = v.detach()  # the numbers alone: NumPy's cast, as PyTorch's
    assert t.tolist() == [2, 2, 3]


def test_writing_an_operand_whose_gradient_nobody_needs_is_allowed():
    # mul and div keep only what their backward reads, as PyTorch: here not y[:-1] itself
    x = ad.tensor(np.arange(6.0), requires_grad=True)
    y = x * 1.0
    y[1:] = y[:-1] * 2.0  # the write overlaps what the mul read
    z = x * 1.0
    z[1:] = z[:-1] / 4.0
    ((y + z) * ad.tensor(np.arange(6.0))).sum().backward()
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 2.0, 4.0, 6.0, 8.0])
    np.testing.assert_array_equal(x.grad.data, [2.25, 4.5, 6.75, 9.0, 11.25, 0.0])
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0], requires_grad=True)
    prod = w * c  # both need a gradient: both kept, both checked
    with ad.no_grad():
        c[0] = 0.0
    with pytest.raises(RuntimeError, match="backward of 'mul'"):
        prod.sum().backward()


def test_clamp_in_place_with_a_bound_that_requires_grad_records_it():
    lo = ad.tensor([0.5, 0.5, 0.5], requires_grad=True)
    hi = ad.tensor(0.9, requires_grad=True)
    t = ad.tensor([0.0, 1.0, 0.7])  # needs no gradient itself: the bounds do
    same = t.clamp_(min=lo, max=hi)
    assert same is t and t.requires_grad and t._version == 1
    (t * ad.tensor([1.0, 2.0, 3.0])).sum().backward()  # the graph was dropped silently
    np.testing.assert_allclose(t.data, [0.5, 0.9, 0.7])
    np.testing.assert_array_equal(lo.grad.data, [1.0, 0.0, 0.0])
    assert hi.grad.item() == 2.0
