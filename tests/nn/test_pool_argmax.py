"""Max pool's running argmax (`_window_max`) against NumPy's argmax over each window (the first
maximum among ties), for int8 indices (kernels under 128 cells) and intp ones (larger)."""

import numpy as np
import pytest

import nn.functional.pooling as P


@pytest.mark.parametrize("kernel, stride", [((2, 2), (2, 2)), ((3, 2), (1, 2)), ((12, 12), (6, 6))])
def test_window_max_is_the_first_maximum(kernel, stride):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(2, 3, 25, 24)).astype(np.float64)  # many ties
    best, arg = P._window_max(x, kernel, stride, (0, 0, 0, 0))
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=(2, 3))
    win = win[:, :, ::stride[0], ::stride[1]].reshape(*best.shape, -1)
    assert arg.dtype == (np.int8 if kernel[0] * kernel[1] < 128 else np.intp)
    np.testing.assert_array_equal(arg, win.argmax(axis=-1))
    np.testing.assert_array_equal(best, win.max(axis=-1))
