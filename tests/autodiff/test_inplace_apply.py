"""autodiff.inplace.apply_ (t <- op(t), the activations' inplace=True): the direct write, the
recorded write on a non-leaf, the refusals."""

import numpy as np
import pytest

import autodiff as ad
from autodiff import inplace


def test_direct_write_keeps_identity_and_memory_and_bumps_the_version():
    t = ad.tensor(np.array([-1.0, 4.0]))
    memory, version = t.data, t._version
    assert inplace.apply_(t, "sqrt_relu_", lambda x: ad.relu(x) ** 0.5) is t
    assert t.data is memory and t._version == version + 1
    np.testing.assert_array_equal(t.data, [0.0, 2.0])


def test_recorded_write_has_the_out_of_place_gradient_to_second_order():
    a = ad.tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    y = a * 1.0
    assert inplace.apply_(y, "exp_", ad.exp) is y
    (g,) = ad.gradients(y.sum(), [a], create_graph=True)
    np.testing.assert_allclose(g.data, np.exp(a.data), rtol=1e-15)
    (g2,) = ad.gradients(g.sum(), [a])
    np.testing.assert_allclose(g2.data, np.exp(a.data), rtol=1e-15)


def test_refusals():
    with pytest.raises(RuntimeError, match="exp_: a leaf tensor that requires grad"):
        inplace.apply_(ad.tensor([1.0], requires_grad=True), "exp_", ad.exp)
    with pytest.raises(ValueError, match=r"sum_: the result has shape \(\) but the tensor "
                                         r"being written has shape \(2,\)"):
        inplace.apply_(ad.tensor([1.0, 2.0]), "sum_", lambda x: x.sum())
    t = ad.tensor(np.array([1, 2]))
    with pytest.raises(TypeError, match=r"exp_: the result has dtype float.* cannot be written "
                                        "into a tensor of dtype int64"):
        inplace.apply_(t, "exp_", ad.exp)
    assert t.tolist() == [1, 2] and t._version == 0
