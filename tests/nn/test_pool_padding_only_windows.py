"""A dilated max-pool window can step over the whole input and cover only padding: its maximum
would be -inf with nowhere for the gradient to go. PyTorch returns -inf and its backward writes
out of bounds (heap corruption, "double free or corruption"); the engine refuses the arguments
by name instead. Windows that touch the input are unaffected."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.mark.parametrize("call", [
    lambda: F.max_pool2d(ad.ones((1, 2, 1, 3)), (3, 2), None, (1, 1), (2, 2), ceil_mode=True),
    lambda: F.max_pool1d(ad.ones((1, 1, 1)), 2, 1, 1, 2),
    lambda: nn.MaxPool2d(2, stride=1, padding=1, dilation=3)(ad.ones((1, 1, 2, 2))),
])
def test_a_window_of_padding_only_is_refused(call):
    with pytest.raises(ValueError, match=r"max_pool[12]d: window \d+ along spatial axis \d "
                                         r"covers only padding \(input size"):
        call()


def test_dilated_windows_that_touch_the_input_still_pool():
    x = ad.tensor(np.arange(10.0).reshape(1, 1, 10), requires_grad=True)
    y = F.max_pool1d(x, 2, 1, 1, 3)  # cells -1 and 2, 0 and 3, ...: each touches the input
    assert np.isfinite(y.data).all() and y.shape == (1, 1, 9)
    y.sum().backward()
    assert x.grad.data.sum() == 9
