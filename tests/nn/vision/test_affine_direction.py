"""RandomAffine's geometry without torchvision (CI has none): the angles and shifts are set,
and the result is a closed form: a quarter turn is np.rot90, clockwise for a positive angle
(torchvision's F.affine, which the docstring said turned counter-clockwise), a whole-pixel
shift moves the picture right and down."""

import numpy as np
import pytest

from nn.vision import transforms as T


class _Fixed:
    """A generator whose uniform draws are given: the angles, then the y and x shifts."""

    def __init__(self, *draws):
        self.draws = [np.asarray(d, dtype=float) for d in draws]

    def uniform(self, low, high, n):
        return self.draws.pop(0)


def affine(x, angles, dy=0, dx=0):
    t = T.RandomAffine(180, 1.0)
    n, _, h, w = x.shape
    t.rng = _Fixed(angles, np.full(n, dy / h), np.full(n, dx / w))
    return t(x)


@pytest.mark.parametrize("side", [3, 4, 5])
def test_quarter_turns_are_rot90_clockwise_for_a_positive_angle(side):
    x = np.arange(2 * side * side, dtype=np.float32).reshape(1, 2, side, side)
    turns = {90: -1, -90: 1, 180: 2, 0: 0}  # np.rot90's k turns counter-clockwise
    for angle, k in turns.items():
        np.testing.assert_array_equal(affine(x, [angle])[0], np.rot90(x[0], k, axes=(1, 2)),
                                      err_msg=f"angle {angle}, {side}x{side}")


def test_a_positive_shift_moves_the_picture_right_and_down():
    x = np.zeros((1, 1, 5, 6), np.float32)
    x[0, 0, 1, 2] = 1
    y = affine(x, [0.0], dy=2, dx=1)
    assert np.argwhere(y[0, 0]).tolist() == [[3, 3]]
