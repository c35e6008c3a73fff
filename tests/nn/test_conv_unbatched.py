"""Conv1d and Conv2d on unbatched input ((C, L), (C, H, W)) as PyTorch's, every padding_mode;
a wrong rank is named with the shape the user gave (not the shape after padding)."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck

MODES = ["zeros", "reflect", "replicate", "circular"]


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_is_the_batch_of_one(mode):
    for layer, x in [(nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode), _rand(2, 5)),
                     (nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode), _rand(2, 4, 5))]:
        layer.to(np.float64)
        out = layer(ad.tensor(x))
        np.testing.assert_allclose(out.data, layer(ad.tensor(x[None])).data[0], atol=1e-15)
        assert gradcheck(layer, x)


def test_a_wrong_rank_names_the_layer_and_the_shape_given():
    with pytest.raises(ValueError, match=r"Conv2d: expected input of shape \(N, C, H, W\) or "
                                         r"\(C, H, W\) unbatched, got \(5, 5\)"):
        nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")(ad.ones((5, 5)))
    with pytest.raises(ValueError, match=r"Conv1d: expected input of shape \(N, C, L\) or "
                                         r"\(C, L\) unbatched, got \(1, 1, 2, 5\)"):
        nn.Conv1d(2, 3, 3, padding=1, padding_mode="circular")(ad.ones((1, 1, 2, 5)))


@pytest.mark.parametrize("mode", MODES)
def test_unbatched_matches_pytorch(mode):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for theirs, ours, x in [
            (torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode), nn.Conv1d(2, 3, 3, padding=2,
             padding_mode=mode), _rand(2, 5)),
            (torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode), nn.Conv2d(2, 3, 3, padding=1,
             padding_mode=mode), _rand(2, 4, 5))]:
        theirs.double()
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        ours.to(np.float64)
        xt, xo = torch.tensor(x, requires_grad=True), ad.tensor(x, requires_grad=True)
        yt, yo = theirs(xt), ours(xo)
        np.testing.assert_allclose(yo.data, yt.detach().numpy(), atol=1e-14)
        yt.sum().backward()
        yo.sum().backward()
        np.testing.assert_allclose(xo.grad.data, xt.grad.numpy(), atol=1e-14)
