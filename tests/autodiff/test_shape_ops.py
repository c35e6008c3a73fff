"""Shape and joining functions (issue 14) beyond the op table's rows: PyTorch's values and
gradients where PyTorch has the op, what NumPy's protocol reaches for functions that take a
list, empty results, memory layouts, and the arguments that are refused.
"""

import numpy as np
import pytest

import autodiff as ad
from autodiff.ops import registry
from autodiff.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _leaf(shape):
    return ad.tensor(RNG.standard_normal(shape), requires_grad=True)


def _grad(f, x, seed):
    """d/dx of sum(f(x) * seed), as an array."""
    (g,) = ad.gradients([f(x)], [x], grad_outputs=[ad.tensor(seed)])
    return g.data


# -- against PyTorch: values and gradients -----------------------------------------------------

CASES_TORCH = {  # name: (ours on a Tensor, PyTorch's on a torch tensor, input shape)
    "flip": (lambda x: ad.flip(x, (0, 2)), lambda t, torch: torch.flip(t, (0, 2)), (2, 3, 4)),
    "fliplr": (ad.fliplr, lambda t, torch: torch.fliplr(t), (3, 4)),
    "flipud": (ad.flipud, lambda t, torch: torch.flipud(t), (3, 4)),
    "roll": (lambda x: ad.roll(x, (1, -2, 5), (0, 1, 1)),
             lambda t, torch: torch.roll(t, (1, -2, 5), (0, 1, 1)), (3, 4)),
    "roll flat": (lambda x: ad.roll(x, 5), lambda t, torch: torch.roll(t, 5), (3, 4)),
    "repeat": (lambda x: ad.repeat(x, [2, 0, 3], axis=0),
               lambda t, torch: torch.repeat_interleave(t, torch.tensor([2, 0, 3]), dim=0),
               (3, 2)),
    "repeat flat": (lambda x: ad.repeat(x, 2), lambda t, torch: torch.repeat_interleave(t, 2),
                    (3, 2)),
    "tile": (lambda x: ad.tile(x, (2, 1, 3)), lambda t, torch: torch.tile(t, (2, 1, 3)), (3, 2)),
    "moveaxis": (lambda x: ad.moveaxis(x, (0, 1), (2, 0)),
                 lambda t, torch: torch.movedim(t, (0, 1), (2, 0)), (2, 3, 4)),
    "diff": (lambda x: ad.diff(x, n=2, axis=0, prepend=np.ones((1, 4)), append=0.5),
             lambda t, torch: torch.diff(t, n=2, dim=0, prepend=torch.ones(1, 4, dtype=t.dtype),
                                         append=torch.full((1, 4), 0.5, dtype=t.dtype)),
             (3, 4)),
    "take_along_axis": (lambda x: ad.take_along_axis(x, np.array([[2, 0, 2], [1, 1, 0]]), 1),
                        lambda t, torch: torch.take_along_dim(
                            t, torch.tensor([[2, 0, 2], [1, 1, 0]]), 1), (2, 3)),
    "take": (lambda x: ad.take(x, [[4, 0], [4, 5]]),
             lambda t, torch: torch.take(t, torch.tensor([[4, 0], [4, 5]])), (2, 3)),
    "ravel F": (lambda x: ad.ravel(x, "F"), lambda t, torch: t.T.reshape(-1), (2, 3)),
    "pad reflect": (lambda x: ad.pad(x, ((0, 0), (2, 1), (1, 3)), "reflect"),
                    lambda t, torch: torch.nn.functional.pad(t, (1, 3, 2, 1), mode="reflect"),
                    (2, 4, 5)),
    "pad edge": (lambda x: ad.pad(x, ((0, 0), (3, 1), (0, 2)), "edge"),
                 lambda t, torch: torch.nn.functional.pad(t, (0, 2, 3, 1), mode="replicate"),
                 (2, 3, 2)),
    "pad wrap": (lambda x: ad.pad(x, ((0, 0), (2, 1), (1, 2)), "wrap"),
                 lambda t, torch: torch.nn.functional.pad(t, (1, 2, 2, 1), mode="circular"),
                 (2, 3, 4)),
    "pad constant": (lambda x: ad.pad(x, ((0, 0), (2, 1)), constant_values=1.5),
                     lambda t, torch: torch.nn.functional.pad(t, (2, 1), value=1.5), (3, 2)),
}


@pytest.mark.parametrize("name", sorted(CASES_TORCH))
def test_values_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    ours, theirs, shape = CASES_TORCH[name]
    x = _leaf(shape)
    y = ours(x)
    t = torch.tensor(x.data, requires_grad=True)
    u = theirs(t, torch)
    np.testing.assert_allclose(y.data, u.detach().numpy(), rtol=1e-12)
    seed = RNG.standard_normal(y.shape)
    (u * torch.tensor(seed)).sum().backward()
    np.testing.assert_allclose(_grad(ours, x, seed), t.grad.numpy(), rtol=1e-12)


def test_sort_gradient_follows_a_stable_permutation_as_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([[2.0, 1.0, 2.0, 1.0, 0.5], [3.0, 3.0, 3.0, -1.0, 3.0]])
    seed = RNG.standard_normal(data.shape)
    for kind in (None, "quicksort", "heapsort", "stable"):  # ties: the same gradient
        x = ad.tensor(data, requires_grad=True)
        t = torch.tensor(data, requires_grad=True)
        values, _ = torch.sort(t, dim=1, stable=True)
        (values * torch.tensor(seed)).sum().backward()
        np.testing.assert_array_equal(ad.sort(x, axis=1, kind=kind).data, values.detach())
        np.testing.assert_allclose(_grad(lambda x, k=kind: ad.sort(x, axis=1, kind=k), x, seed),
                                   t.grad.numpy())


def test_clip_with_bounds_that_require_grad_matches_pytorchs_clamp():
    torch = pytest.importorskip("torch")
    x = ad.tensor([-2.0, 0.5, 3.0, 0.7, -0.5, 2.0], requires_grad=True)
    lo = ad.tensor([0.0, 0.0, 0.0, 0.8, 0.1, 1.0], requires_grad=True)  # min > max in place 3
    hi = ad.tensor([0.0, 1.0, 1.0, 0.2, 1.0, 3.0], requires_grad=True)  # min == max in place 0
    tx, tlo, thi = (torch.tensor(v.data.astype(np.float64), requires_grad=True)
                    for v in (x, lo, hi))
    for bounds, tbounds in [((lo, hi), (tlo, thi)), ((lo, None), (tlo, None)),
                            ((None, hi), (None, thi))]:
        for v in (x, lo, hi, tx, tlo, thi):
            v.grad = None
        y = ad.clip(x, *bounds)
        u = torch.clamp(tx, *tbounds)
        np.testing.assert_allclose(y.data, u.detach().numpy(), rtol=1e-6)
        y.sum().backward()
        u.sum().backward()
        for ours, theirs in zip((x, *bounds), (tx, *tbounds)):
            if ours is not None:
                np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())


# -- NumPy's functions that take a list of tensors ---------------------------------------------

@pytest.mark.parametrize("func", [np.vstack, np.hstack, np.dstack, np.column_stack])
def test_numpy_stacking_functions_on_a_list_of_tensors_are_differentiable(func):
    a, b = _leaf((2, 3)), _leaf((2, 3))
    y = func([a, b])
    assert isinstance(y, ad.Tensor) and y.requires_grad
    np.testing.assert_array_equal(y.data, func([a.data, b.data]))
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.ones((2, 3)))


def test_vstack_and_hstack_take_numpys_dtype_and_casting():
    x32 = ad.tensor(np.ones((1, 2), np.float32), requires_grad=True)
    x64 = ad.tensor(np.ones((1, 2)), requires_grad=True)
    assert np.vstack([x32, x32], dtype=np.float64).dtype == np.float64
    assert ad.hstack([x32, x64]).dtype == np.float64
    with pytest.raises(TypeError, match=r"vstack: cannot cast a tensor of dtype float64 to "
                                        r"float32 with casting='safe'"):
        ad.vstack([x32, x64], dtype=np.float32, casting="safe")
    with pytest.raises(TypeError, match=r"hstack: cannot cast .* casting='no'"):
        ad.hstack([x32, x64], casting="no")
    with pytest.raises(ValueError, match=r"vstack: concatenate along axis 0: shapes"):
        ad.vstack([ad.ones(2), ad.ones(3)])
    with pytest.raises(TypeError, match="dstack: expected a non-empty list or tuple"):
        ad.dstack(ad.ones((2, 2)))


# -- empty results, the identity cases (outside the op table, whose draws avoid both) ----------

@pytest.mark.parametrize("f", [
    lambda x: ad.tile(x, (0, 2)),
    lambda x: ad.repeat(x, 0, axis=1),
    lambda x: ad.diff(x, n=5, axis=1),
    lambda x: ad.take(x, np.zeros((0, 2), int), axis=0),
    lambda x: ad.pad(x[:0], ((0, 0), (1, 2)), "reflect"),
])
def test_empty_results_have_numpys_shape_and_a_zero_gradient(f):
    x = _leaf((3, 2))
    y = f(x)
    assert y.shape == f(x.detach()).shape and y.size == 0
    np.testing.assert_array_equal(_grad(f, x, np.zeros(y.shape)), np.zeros((3, 2)))
    assert gradcheck(f, x, modes=("rev", "fwd")) and gradgradcheck(f, x, modes=("rev", "fwd"))


def test_array_split_pieces_as_numpy_slices_them_empty_ones_included():
    x = _leaf((5, 2))
    for sections in ([3, -4, 10], [4, 2], 7, [-1]):
        pieces = ad.array_split(x, sections)
        for p, e in zip(pieces, np.array_split(x.data, sections), strict=True):
            np.testing.assert_array_equal(p.data, e)
    pieces = ad.array_split(x, [4, 2])  # [0:4], [4:2] (empty), [2:5]
    ad.gradients([pieces[0], pieces[2]], [x], grad_outputs=[ad.ones((4, 2)), ad.ones((3, 2))])
    for cuts in ([-2], [1, -1], [4, 2]):  # NumPy's slices, negative indices included
        for p, e in zip(ad.split(x, cuts), np.split(x.data, cuts), strict=True):
            np.testing.assert_array_equal(p.data, e)
    with pytest.raises(ValueError, match="split: axis 0 of size 5 does not divide into 2"):
        ad.split(x, 2)
    with pytest.raises(ValueError, match="array_split: the number of sections must be > 0"):
        ad.array_split(x, 0)


def test_diff_of_order_0_is_the_input_and_tensor_ends_get_their_gradient():
    x = _leaf((3,))
    assert ad.diff(x, n=0) is x
    first, last = ad.tensor(0.5, requires_grad=True), _leaf((2,))
    ad.diff(x, prepend=first, append=last).sum().backward()  # = last[-1] - first
    assert first.grad.item() == -1.0
    np.testing.assert_array_equal(last.grad.data, [0.0, 1.0])
    flags = ad.tensor(np.array([True, True, False]))
    np.testing.assert_array_equal(ad.diff(flags).data, np.diff(flags.data))
    x32 = ad.tensor(np.ones(3, np.float32), requires_grad=True)
    assert ad.diff(x32, prepend=np.zeros(1), append=2).dtype == np.float32  # constants follow


def _layouts(n):
    """Arrays laid out in memory every way NumPy allows: sliced with steps (negative ones
    too), transposed, broadcast (stride 0), Fortran-ordered."""
    rng = np.random.default_rng(1)
    for _ in range(n):
        shape = tuple(rng.integers(1, 4, rng.integers(1, 5)))
        a = rng.standard_normal(tuple(2 * s for s in shape))
        a = a[tuple(slice(None, None, int(rng.choice([1, 2, -1, -2]))) for _ in shape)]
        a = a[tuple(slice(0, s) for s in shape)].transpose(rng.permutation(len(shape)))
        if rng.random() < 0.4:
            a = np.broadcast_to(a[tuple(slice(0, 1) if rng.random() < 0.4 else slice(None)
                                        for _ in shape)], a.shape)
        yield np.asfortranarray(a) if rng.random() < 0.1 else a


def test_ravel_reads_any_memory_layout_as_numpy():
    for data in _layouts(300):
        t = ad.Tensor(data)
        for order in "CFAK":
            np.testing.assert_array_equal(ad.ravel(t, order).data, np.ravel(data, order))
            np.testing.assert_array_equal(t.flatten(order).data, data.flatten(order))
    with pytest.raises(ValueError, match="ravel: order must be 'C', 'F', 'A' or 'K', got 'X'"):
        ad.ravel(t, "X")


def test_pad_empty_mode_gives_zeros_and_odd_reflections_of_reflections():
    x = _leaf((2, 3))
    y = ad.pad(x, 2, "empty")
    np.testing.assert_array_equal(y.data, np.pad(x.data, 2))  # NumPy's values are unset
    v = ad.tensor([1.0, 3.0], requires_grad=True)
    for mode in ("reflect", "symmetric"):  # pads longer than the axis: NumPy's iteration
        np.testing.assert_array_equal(ad.pad(v, (5, 4), mode, reflect_type="odd").data,
                                      np.pad(v.data, (5, 4), mode, reflect_type="odd"))
    y = ad.pad(v, (2, 0), "reflect", reflect_type="odd")  # [3a - 2b, 2a - b, a, b]
    np.testing.assert_array_equal(y.data, [-3.0, -1.0, 1.0, 3.0])
    y.sum().backward()
    np.testing.assert_array_equal(v.grad.data, [6.0, -2.0])


def test_meshgrid_and_broadcast_arrays_return_views_unless_asked_to_copy():
    a, b = _leaf(3), _leaf(2)
    X, Y = ad.meshgrid(a, b, copy=False)
    assert not X.data.flags.writeable  # a broadcast view, as NumPy's
    X, Y = ad.meshgrid(a, b)
    assert X.data.flags.writeable and X.data.flags.owndata
    (X * Y).sum().backward()
    np.testing.assert_allclose(a.grad.data, np.full(3, b.data.sum()))
    assert ad.meshgrid() == ()
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'xy' or 'ij'"):
        ad.meshgrid(a, indexing="yx")
    with pytest.raises(ValueError, match=r"broadcast_arrays: shapes \[\(3,\), \(2,\)\]"):
        ad.broadcast_arrays(a, b)


# -- methods --------------------------------------------------------------------------------

def test_methods_are_ndarrays():
    x = _leaf((2, 3))
    d = x.data
    np.testing.assert_array_equal(x.ravel().data, d.ravel())
    np.testing.assert_array_equal(x.repeat(2, axis=1).data, d.repeat(2, axis=1))
    np.testing.assert_array_equal(x.take([0, 5]).data, d.take([0, 5]))
    np.testing.assert_array_equal(x.clip(max=0.1).data, d.clip(max=0.1))
    np.testing.assert_array_equal(x.clip(-0.1).data, d.clip(-0.1))
    assert {"ravel", "repeat", "take", "clip"} <= set(registry.METHODS)


def test_tensor_sort_method_is_refused_rather_than_differing_from_numpy_or_pytorch():
    x = ad.tensor([2.0, 1.0])
    with pytest.raises(TypeError, match=r"ndarray.sort sorts in place.*PyTorch.*np.sort\(t\)"):
        x.sort()
    assert x.tolist() == [2.0, 1.0]


# -- refused arguments, errors that name the op -------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda x: ad.take(x, [6]), IndexError, r"take: index 6 is out of bounds for axis 0 with "
                                            r"size 6"),
    (lambda x: ad.take(x, [0], axis=1, out=np.empty((2, 1))), TypeError, "take: out="),
    (lambda x: ad.take(x, [0], mode="nearest"), ValueError, "take: mode must be"),
    (lambda x: ad.take(x, ["a"]), TypeError, "take: indices must be integers"),
    (lambda x: ad.take(x[:, :0], [0], axis=1, mode="wrap"), IndexError, "take: cannot take"),
    (lambda x: ad.take_along_axis(x, np.array([[0.5]]), 1), IndexError,
     "take_along_axis: indices must be an integer array"),
    (lambda x: ad.take_along_axis(x, np.array([0]), 1), ValueError,
     "take_along_axis: indices of shape"),
    (lambda x: ad.take_along_axis(x, np.zeros((2, 2), int), None), ValueError,
     "with axis=None, indices must be 1-D"),
    (lambda x: ad.take_along_axis(x, np.zeros((3, 1), int), 1), IndexError,
     "do not broadcast"),
    (lambda x: ad.sort(x, order="f"), ValueError, "sort: order= applies to structured"),
    (lambda x: ad.sort(x, kind="bogo"), ValueError, "sort kind"),
    (lambda x: ad.sort(ad.tensor(1.0)), np.exceptions.AxisError, "sort: axis -1"),
    (lambda x: ad.repeat(x, [1, 2], axis=1), ValueError, r"repeat: repeats of shape \(2,\) do "
                                                         "not fit axis 1 of size 3"),
    (lambda x: ad.repeat(x, -1), ValueError, "repeat: repeats must be >= 0"),
    (lambda x: ad.tile(x, -1), ValueError, "tile: reps must be >= 0"),
    (lambda x: ad.tile(x, "ab"), TypeError, "tile: reps must be an integer"),
    (lambda x: ad.fliplr(x[0]), ValueError, r"fliplr: needs at least 2 dimensions, got shape"),
    (lambda x: ad.flipud(x[0, 0]), ValueError, "flipud: needs at least 1 dimension"),
    (lambda x: ad.flip(x, 2), np.exceptions.AxisError, "flip: axis 2"),
    (lambda x: ad.roll(x, 1.5, 0), TypeError, "roll: shift and axis must be integers"),
    (lambda x: ad.roll(x, (1, 2, 3), (0, 1)), ValueError, "roll: shift"),
    (lambda x: ad.roll(x, [[1]], 0), ValueError, "roll: shift and axis must be integers or 1-D"),
    (lambda x: ad.moveaxis(x, (0, 1), 0), ValueError, "moveaxis: source .* same number"),
    (lambda x: ad.moveaxis(x, (0, 0), (0, 1)), ValueError, "moveaxis: repeated axis"),
    (lambda x: ad.rollaxis(x, 0, 3), np.exceptions.AxisError, "rollaxis: start 3 is out of"),
    (lambda x: ad.diff(x, n=-1), ValueError, "diff: the order n must be >= 0"),
    (lambda x: ad.diff(x[0, 0]), ValueError, "diff: needs a tensor of at least 1 dimension"),
    (lambda x: ad.pad(x, 1, "mean"), ValueError, "pad: mode 'mean' is not supported"),
    (lambda x: ad.pad(x, 1, np.sum), ValueError, "pad: mode .* is not supported"),
    (lambda x: ad.pad(x, 1, "edge", constant_values=1), ValueError,
     "pad: constant_values is an argument of mode 'constant', not 'edge'"),
    (lambda x: ad.pad(x, 1, reflect_type="odd"), ValueError, "pad: reflect_type is an"),
    (lambda x: ad.pad(x, 1, "reflect", reflect_type="neither"), ValueError,
     "pad: reflect_type must be"),
    (lambda x: ad.pad(x, 1.0), TypeError, "pad: pad_width must be integers"),
    (lambda x: ad.pad(x, (1, -1)), ValueError, "pad: widths must be >= 0"),
    (lambda x: ad.pad(x, ((1, 1),) * 3), ValueError, "pad: pad_width .* does not fit"),
    (lambda x: ad.pad(x, 1, constant_values=((1, 2),) * 3), ValueError,
     "pad: constant_values .* does not fit"),
    (lambda x: ad.pad(x[:0], 1, "wrap"), ValueError, "pad: cannot extend axis 0 of size 0"),
    (lambda x: ad.pad(x, 1, constant_values=ad.tensor(1.0, requires_grad=True)), TypeError,
     "pad: constant_values is a tensor that requires grad"),
    (lambda x: ad.clip(x, a_min=0, max=1), ValueError, "clip: give the bounds as a_min"),
    (lambda x: np.clip(x, 0, 1, out=np.empty((2, 3))), TypeError, "np.clip.*'out'"),
    (lambda x: ad.meshgrid(x, sparse=True, copy=False, spam=1), TypeError, "spam"),
])
def test_refused_arguments_raise_errors_that_name_the_op(call, error, message):
    x = _leaf((2, 3))
    with pytest.raises(error, match=message):
        call(x)


def test_pad_takes_numpys_argument_forms():
    x = _leaf((2, 3))
    for width in (1, (1, 2), ((1, 0), (0, 2)), {1: 2}, {-2: (1, 0)}, ((1,), (2,))):
        for values in (None, 2.5, (1.0, 2.0), ((1.0, 2.0), (3.0, 4.0))):
            kw = {} if values is None else {"constant_values": values}
            np.testing.assert_array_equal(np.pad(x, width, **kw).data,
                                          np.pad(x.data, width, **kw))
    values = ad.tensor([1.0, 2.0])  # a tensor that does not require grad: its values
    np.testing.assert_array_equal(ad.pad(x, 1, constant_values=values).data,
                                  np.pad(x.data, 1, constant_values=[1.0, 2.0]))
