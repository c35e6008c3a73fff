import numpy as np

from nn.vision import transforms as T


def test_shapes_determinism_and_identities():
    x = np.random.default_rng(0).random((6, 2, 8, 8)).astype(np.float32)
    for t in [T.RandomCrop(8, padding=2, seed=1), T.RandomHorizontalFlip(seed=1),
              T.RandomAffine(10, 0.1, seed=1)]:
        y = t(x)
        assert y.shape == x.shape and y.dtype == x.dtype
    a = T.RandomAffine(10, 0.1, seed=3)(x)
    b = T.RandomAffine(10, 0.1, seed=3)(x)
    np.testing.assert_array_equal(a, b)
    flip = T.RandomHorizontalFlip(p=1.0)
    np.testing.assert_array_equal(flip(flip(x)), x)
    np.testing.assert_array_equal(T.RandomCrop(8, padding=0)(x), x)
    np.testing.assert_array_equal(T.RandomAffine(0, 0.0)(x), x)


def test_normalize_and_compose():
    x = np.random.default_rng(1).normal(3.0, 2.0, (200, 1, 4, 4)).astype(np.float32)
    y = T.Compose([T.Normalize([3.0], [2.0])])(x)
    assert abs(y.mean()) < 0.05 and abs(y.std() - 1) < 0.05


def test_crop_moves_content():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 0, 0] = 1
    outs = {tuple(np.argwhere(T.RandomCrop(4, padding=1, seed=s)(x)[0, 0] == 1).ravel())
            for s in range(20)}
    assert len(outs) > 1
