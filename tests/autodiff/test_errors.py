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
    with pytest.raises(ValueError, match="axis 5 is out of range"):
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
    with pytest.raises(ValueError, match="clip"):
        ad.clip(x)
