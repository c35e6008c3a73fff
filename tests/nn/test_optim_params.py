"""What an optimizer accepts as its parameters and gradients: ordered collections of Tensors
(or of groups), each parameter once, and gradients of their parameter's shape."""

import numpy as np
import pytest

import autodiff as ad
import nn


def weight():
    return ad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)


@pytest.mark.parametrize("make, error, match", [
    (lambda w: nn.optim.SGD(w, lr=0.1), TypeError,
     r"SGD: params should be an iterable of Tensors or dicts, got a Tensor \(wrap it in a list"),
    (lambda w: nn.optim.Adam({w}), TypeError,
     r"Adam: params should be an ordered collection .* got a set, whose order changes"),
    (lambda w: nn.optim.SGD([{"params": {w}}], lr=0.1), TypeError,
     r"a group's 'params' should be an ordered collection"),
    (lambda w: nn.optim.SGD({"params": [w]}, lr=0.1), TypeError,
     r"got a dict \(one parameter group goes in a list"),
    (lambda w: nn.optim.SGD([w, w], lr=0.1), ValueError,
     r"SGD: a parameter appears twice in one group \(each step would update it twice\)"),
    (lambda w: nn.optim.SGD([{"lr": 1.0}], lr=0.1), TypeError,
     r"a parameter group is a dict with a 'params' entry, got \{'lr': 1.0\}"),
    (lambda w: nn.optim.SGD([{"params": [w]}, ad.ones(1, requires_grad=True)], lr=0.1),
     TypeError, r"all Tensors or all parameter groups"),
    (lambda w: nn.optim.SGD([ad.ones(1, requires_grad=True), {"params": [w]}], lr=0.1),
     TypeError, r"all Tensors or all parameter groups"),
    (lambda w: nn.optim.Adam([w * 2.0]), ValueError,
     r"Adam: can't optimize a non-leaf Tensor \(one of shape \(2, 2\) made by an op\)"),
    (lambda w: nn.optim.SGD([w[0]], lr=0.1), ValueError, r"SGD: can't optimize a non-leaf"),
    (lambda w: nn.optim.SGD([(w * 2.0).retain_grad()], lr=0.1), ValueError,
     r"SGD: can't optimize a non-leaf"),
], ids=["tensor", "set", "set-in-group", "one-dict", "twice", "group-without-params",
        "group-then-tensor", "tensor-then-group", "non-leaf", "view", "retained-non-leaf"])
def test_params_that_would_train_wrongly_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make(weight())


def test_a_generator_of_parameters_trains():
    """What the refusal of a bare Tensor points to (SGD(w) iterated w into its rows, non-leaf
    tensors whose grad stays None, so no step ever moved w): a list or a generator."""
    w = weight()
    opt = nn.optim.SGD((p for p in [w]), lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, [[0.0, 0.0], [0.0, 0.0]])


def test_a_non_leaf_is_refused_where_it_would_silently_never_train():
    """A non-leaf's .grad stays None after backward, so each step skipped it and the model never
    trained (accepted before, silently); PyTorch raises ValueError("can't optimize a non-leaf
    Tensor"). add_param_group refuses it too, and adds nothing."""
    w = weight()
    opt = nn.optim.SGD([ad.ones(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="SGD: can't optimize a non-leaf Tensor"):
        opt.add_param_group({"params": [w.T]})
    assert len(opt.param_groups) == 1


def test_add_param_group_refuses_a_parameter_twice_in_the_group():
    opt = nn.optim.SGD([weight()], lr=0.1)
    b = ad.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="appears twice in one group"):
        opt.add_param_group({"params": [b, b]})
    assert len(opt.param_groups) == 1


def swap_in_grad(p, shape):
    """Give p a gradient of another shape: assigning .grad checks the shape, so the array is
    swapped in under a gradient of the right one (what the optimizers still check)."""
    p.grad = ad.zeros(p.shape, dtype=p.dtype)
    p.grad.data = np.ones(shape, p.dtype)


@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.optim.Adam(ps),
    lambda ps: nn.optim.RMSprop(ps), lambda ps: nn.optim.Adagrad(ps),
    lambda ps: nn.optim.Adadelta(ps), lambda ps: nn.optim.Adamax(ps),
    lambda ps: nn.optim.NAdam(ps), lambda ps: nn.optim.RAdam(ps),
    lambda ps: nn.optim.MomentumGD(ps)], ids=lambda f: "")
@pytest.mark.parametrize("shape", [(1,), (2,), (2, 2, 1), ()])
def test_a_gradient_of_another_shape_is_refused_not_broadcast(make, shape):
    w = weight()
    opt = make([w])
    swap_in_grad(w, shape)
    with pytest.raises(ValueError, match=r"\.step: a parameter of shape \(2, 2\) has a gradient "
                                         rf"of shape {__import__('re').escape(str(shape))}"):
        opt.step()
    np.testing.assert_array_equal(w.data, [[1.0, 2.0], [3.0, 4.0]])
    assert opt.state == {}


def test_lbfgs_refuses_a_gradient_of_another_shape():
    """Its flat gradient concatenated the arrays as they were: two wrong shapes of the right
    total size lined every value up with the wrong parameter."""
    a, b = ad.zeros(3, requires_grad=True), ad.zeros(1, requires_grad=True)
    opt = nn.optim.LBFGS([a, b])

    def closure():
        swap_in_grad(a, (1,))
        swap_in_grad(b, (3,))
        return 1.0

    with pytest.raises(ValueError, match=r"LBFGS.step: a parameter of shape \(3,\) has a "
                                         r"gradient of shape \(1,\)"):
        opt.step(closure)


def test_a_refused_step_changes_no_parameter():
    """The check runs before any update: the first parameter is not moved when the second's
    gradient is refused."""
    a, b = ad.ones(2, requires_grad=True), ad.ones(3, requires_grad=True)
    opt = nn.optim.Adam([{"params": [a]}, {"params": [b]}])
    a.grad = ad.ones(2)
    swap_in_grad(b, (2,))
    with pytest.raises(ValueError, match=r"a parameter of shape \(3,\) has a gradient of shape"):
        opt.step()
    assert a.tolist() == [1.0, 1.0] and opt.state == {}


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
                                  "Adagrad"])
def test_float16_with_an_eps_it_cannot_hold_is_refused(name):
    """Default eps (1e-8, Adagrad's 1e-10) is 0 in float16: a zero gradient gave 0 / 0 = NaN
    and a tiny one an infinite step, silently (as PyTorch does)."""
    w = ad.tensor(np.ones(3, np.float16), requires_grad=True)
    opt = getattr(nn.optim, name)([w], lr=0.01)
    w.grad = ad.tensor(np.array([0.0, 1e-3, 2.0], np.float16))
    with pytest.raises(ValueError, match=rf"{name}.step: eps=1e-(08|10) is 0 in float16, so a "
                                         "zero gradient would make the parameter NaN"):
        opt.step()
    assert w.tolist() == [1.0, 1.0, 1.0]
    opt = getattr(nn.optim, name)([w], lr=0.01, eps=1e-4)
    for _ in range(8):
        opt.step()
    assert w.dtype == np.float16 and np.isfinite(w.data).all() and w.data[0] == 1.0
