"""Bad input gets a clear error naming the op and the shapes."""

import numpy as np
import pytest

import autodiff as ad


def test_broadcast_mismatch_names_op_and_both_shapes():
    a, b = ad.ones((2, 3)), ad.ones((4,))
    for op, name in [(lambda: a + b, "add"), (lambda: a * b, "mul"), (lambda: a - b, "sub"),
                     (lambda: a / b, "div"), (lambda: ad.maximum(a, b), "maximum")]:
        with pytest.raises(ValueError, match=rf"{name}: shapes \(2, 3\) and \(4,\)"):
            op()


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        ad.ones((2, 3)) @ ad.ones((4, 5))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        ad.matmul(ad.tensor(1.0), ad.ones(2))


def test_shape_op_errors():
    x = ad.ones((2, 3))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape a tensor of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match="broadcast_to"):
        x.broadcast_to((3, 3))
    with pytest.raises(np.exceptions.AxisError, match="sum: axis 5 is out of bounds"):
        x.sum(axis=5)
    with pytest.raises(ValueError, match="concatenate"):
        ad.concatenate([x, ad.ones((3, 2))], axis=0)
    with pytest.raises(ValueError, match="stack"):
        ad.stack([x, ad.ones((3, 2))])
    with pytest.raises(ValueError, match="split"):
        ad.split(ad.ones(5), 2)
    with pytest.raises(ValueError, match="squeeze"):
        x.squeeze(0)
    with pytest.raises(IndexError, match=r"getitem.*shape \(2, 3\)"):
        x[5]
    with pytest.raises(ValueError, match="transpose"):
        x.transpose(0, 0)
    with pytest.raises(ValueError, match="where"):
        ad.where(np.ones(4, bool), x, 0)
    with pytest.raises(ValueError, match="empty"):
        ad.ones((0, 2)).max(axis=0)
    with pytest.raises(ValueError, match="clip: give the bounds as a_min, a_max or as min"):
        ad.clip(x, 0, 1, min=0)  # (no bound at all is a copy, as NumPy 2)


@pytest.mark.parametrize("make, message", [
    (lambda: ad.ones((2, 3)) @ ad.ones((2, 3, 4, 5)),
     r"matmul: shapes \(2, 3\) and \(2, 3, 4, 5\)"),
    (lambda: ad.ones((2, 3, 4)) @ ad.ones((5, 4, 2)),
     r"matmul: batch axes of shapes \(2, 3, 4\) and \(5, 4, 2\)"),
    (lambda: ad.ones(3) @ ad.ones(4), r"matmul: shapes \(3,\) and \(4,\)"),
    (lambda: ad.ones((2, 3)) + np.ones(4), r"add: shapes \(2, 3\) and \(4,\)"),
    (lambda: np.ones(4) + ad.ones((2, 3)), r"add: shapes \(4,\) and \(2, 3\)"),
    (lambda: ad.ones((2, 3)) ** ad.ones(4), r"pow: shapes \(2, 3\) and \(4,\)"),
    (lambda: ad.where(ad.ones((2, 3)) > 0, ad.ones(4), 0), r"where: shapes \(2, 3\), \(4,\)"),
])
def test_more_mismatches_name_the_op_and_every_shape(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_an_advanced_index_out_of_range_names_setitem_and_the_index():
    x = ad.ones((4, 3))
    y = ad.ones((4, 3), requires_grad=True) * 1.0
    with pytest.raises(IndexError, match=r"setitem: index array\(\[0, 9\]\) does not fit "
                                         r"shape \(4, 3\): index 9 is out of bounds"):
        ad.setitem(x, [0, 9], 1.0)
    with pytest.raises(IndexError, match=r"setitem: index array\(\[-5\]\) does not fit"):
        y[[-5]] = 1.0


def test_a_value_numpy_cannot_write_through_a_mask_names_setitem():
    mask = np.array([True, False, True])
    for target in (ad.zeros(3), ad.zeros(3, requires_grad=True) * 1.0):
        with pytest.raises(TypeError, match=r"setitem: cannot write a value of shape \(1, 1, 1\) "
                                            r"into index .* of a tensor of shape \(3,\)"):
            target[mask] = ad.ones((1, 1, 1))
