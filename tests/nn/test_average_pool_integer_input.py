"""Average pools on an integer input: refused by name (they returned all zeros: the constant
averaging weights took the integer dtype and rounded to 0)."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F

CASES = [
    (F.avg_pool1d, (1, 1, 4), (2,)), (F.avg_pool2d, (1, 1, 4, 4), (2,)),
    (F.avg_pool3d, (1, 1, 2, 2, 2), (2,)), (F.adaptive_avg_pool1d, (1, 1, 4), (1,)),
    (F.adaptive_avg_pool2d, (1, 1, 4, 4), (1,)), (F.adaptive_avg_pool3d, (1, 1, 2, 2, 2), (1,)),
]


@pytest.mark.parametrize(("pool", "shape", "args"), CASES)
def test_integer_input_is_refused(pool, shape, args):
    x = ad.tensor(np.arange(1, 1 + np.prod(shape)).reshape(shape))
    with pytest.raises(TypeError, match=rf"{pool.__name__}: expected a floating input, got "
                                        "dtype int64"):
        pool(x, *args)
    # the same values as floats average as they should (never zeros)
    y = pool(ad.tensor(x.data.astype(np.float64)), *args)
    assert (y.data > 0).all()
