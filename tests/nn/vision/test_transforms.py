import numpy as np
import pytest

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


def test_random_transforms_resume_from_their_state(tmp_path):
    import nn

    def make():
        return T.Compose([T.RandomCrop(8, padding=2, seed=1), T.Normalize([0.5], [0.5]),
                          T.RandomHorizontalFlip(seed=2), T.RandomAffine(10, 0.1, seed=3)])

    x = np.random.default_rng(0).random((16, 1, 8, 8)).astype(np.float32)
    t = make()
    straight = [t(x) for _ in range(4)]
    t = make()
    t(x), t(x)
    nn.save({"t": t.state_dict()}, tmp_path / "t.npz")
    resumed = make()
    resumed(x)  # disturb it: the loaded state must replace whatever it drew
    resumed.load_state_dict(nn.load(tmp_path / "t.npz")["t"])
    for want in straight[2:]:
        np.testing.assert_array_equal(resumed(x), want)


def test_compose_refuses_a_state_for_other_transforms():
    state = T.Compose([T.RandomAffine(seed=0)]).state_dict()
    with pytest.raises(ValueError, match="a state for 1 transforms"):
        T.Compose([T.Normalize([0.5], [0.5])]).load_state_dict(state)
    with pytest.raises(ValueError, match="this Compose has 2"):
        T.Compose([T.RandomAffine(seed=0), T.RandomCrop(4, seed=0)]).load_state_dict(state)
