"""Recurrent layers on empty input: a batch of 0 sequences gives empty outputs and zero
gradients, as PyTorch's (it raised NumPy's "cannot reshape array of size 0" for the RNN, the
GRU and every cell); a sequence of 0 steps is refused by name, as PyTorch refuses it."""

import re

import pytest

import autodiff as ad
import nn


@pytest.mark.parametrize("cls, kwargs", [
    (nn.RNN, {}), (nn.GRU, {"bidirectional": True, "num_layers": 2}), (nn.LSTM, {}),
    (nn.LSTM, {"proj_size": 2}), (nn.GRU, {"batch_first": True})])
def test_a_batch_of_no_sequences(cls, kwargs):
    layer = cls(2, 3, **kwargs)
    x = ad.zeros((0, 4, 2) if kwargs.get("batch_first") else (4, 0, 2), requires_grad=True)
    out, state = layer(x)
    h = state[0] if isinstance(state, tuple) else state
    d = 2 if kwargs.get("bidirectional") else 1
    assert out.shape == ((0, 4, 3) if kwargs.get("batch_first") else
                         (4, 0, kwargs.get("proj_size") or 3 * d))
    assert h.shape[1] == 0
    (out.sum() + h.sum()).backward()
    assert x.grad.shape == x.shape and not layer.weight_ih_l0.grad.data.any()


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_a_cell_on_a_batch_of_none(cls):
    cell = cls(2, 3)
    x = ad.zeros((0, 2), requires_grad=True)
    out = cell(x)
    h = out[0] if isinstance(out, tuple) else out
    assert h.shape == (0, 3)
    h.sum().backward()
    assert x.grad.shape == (0, 2) and not cell.weight_hh.grad.data.any()


def test_a_batch_of_none_equals_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    for name in ("RNN", "GRU", "LSTM"):
        ours = getattr(nn, name)(2, 3)(ad.zeros((4, 0, 2)))[0].shape
        assert ours == tuple(getattr(torch.nn, name)(2, 3)(torch.zeros(4, 0, 2))[0].shape)


@pytest.mark.parametrize("shape, batch_first", [((0, 2, 2), False), ((2, 0, 2), True),
                                                ((0, 2), False)])
def test_no_steps_is_refused_by_name(shape, batch_first):
    message = f"GRU: expected a sequence length larger than 0, got input of shape {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.GRU(2, 3, batch_first=batch_first)(ad.zeros(shape))
