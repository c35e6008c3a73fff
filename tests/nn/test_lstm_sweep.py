"""The LSTM's fast sweep (nn/functional/lstm_sweep.py) against the same recurrence composed of
engine ops (float64): each of its paths — a second backward through a retained graph, one bias
only, other sizes, unused outputs (zero gradients skipped), only some inputs
needing a gradient, no steps — and what its buffers must never do (an output overwritten by
the next forward)."""

import numpy as np
import pytest

import autodiff as ad
import nn
from nn.functional.lstm_sweep import LSTMSweep
from nn.functional.recurrent import Recurrence, recurrence_composed

RNG = np.random.default_rng(1)


def _args(t=4, b=3, i=5, h=4, biases=(True, True)):
    shapes = [(t, b, i), (b, h), (b, h), (4 * h, i), (4 * h, h), (4 * h,), (4 * h,)]
    arrays = [RNG.standard_normal(s) * 0.7 for s in shapes]
    arrays[5] = arrays[5] if biases[0] else None
    arrays[6] = arrays[6] if biases[1] else None
    return arrays


def _both(arrays, use, grad=(True,) * 7, reverse=False, retain=False):
    """Outputs and input gradients of the primitive and of the composed graph, for the loss
    sum_k (k + 1) * sum(out_k * out_k) over the outputs `use` picks."""
    results = []
    for f in (Recurrence.apply, recurrence_composed):
        args = [None if a is None else ad.tensor(a, requires_grad=g)
                for a, g in zip(arrays, grad)]
        outs = f(*args, mode="LSTM", reverse=reverse)
        loss = sum((outs[k] * (k + 1.0) * outs[k]).sum() for k in use)
        loss.backward(retain_graph=retain)
        grads = [a.grad.data for a in args if a is not None and a.requires_grad]
        if retain:  # a second backward through the same graph adds the same again
            loss.backward()
            grads = [a.grad.data / 2 for a in args if a is not None and a.requires_grad]
        results.append([o.data for o in outs] + grads)
    return results


def _assert_same(results):
    ours, ref = results
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_a_second_backward_through_a_retained_graph(reverse):
    # the first backward writes dz over the kept factors; the second recomputes them
    _assert_same(_both(_args(), use=(0, 1, 2), reverse=reverse, retain=True))


@pytest.mark.parametrize("biases", [(True, False), (False, True), (False, False)])
def test_one_bias_or_none(biases):
    _assert_same(_both(_args(biases=biases), use=(0, 1, 2)))


@pytest.mark.parametrize("i, h", [(1, 1), (12, 4), (3, 16)])
def test_sizes(i, h):
    _assert_same(_both(_args(i=i, h=h), use=(0, 1, 2)))


@pytest.mark.parametrize("use", [(1,), (2,), (1, 2)])
def test_unused_outputs(use):
    # the output sequence unused: its gradient arrives as zeros and is skipped
    _assert_same(_both(_args(), use=use))


@pytest.mark.parametrize("grad", [
    (True, False, False, False, False, False, False),  # x only: dx, no weight products
    (False, False, False, True, True, False, False),  # the weights only
    (False, True, True, False, False, True, False),  # the states and one bias
])
def test_only_some_inputs_need_a_gradient(grad):
    _assert_same(_both(_args(), use=(0, 1, 2), grad=grad))


def test_no_steps():
    # (the composed graph cannot stack no steps: the values are known)
    args = [None if a is None else ad.tensor(a, requires_grad=True) for a in _args(t=0)]
    out, h_n, c_n = Recurrence.apply(*args, mode="LSTM", reverse=False)
    assert out.shape == (0, 3, 4)
    np.testing.assert_array_equal(h_n.data, args[1].data)
    np.testing.assert_array_equal(c_n.data, args[2].data)
    (h_n * 2.0 + c_n * 3.0).sum().backward()
    assert args[0].grad.shape == (0, 3, 5)
    assert (args[1].grad.data == 2.0).all() and (args[2].grad.data == 3.0).all()
    assert not any(a.grad.data.any() for a in args[3:])


def test_no_grad_forward_equals_the_recorded_one():
    arrays = _args()
    with ad.no_grad():
        plain = Recurrence.apply(*map(ad.tensor, arrays), mode="LSTM", reverse=False)
    recorded = Recurrence.apply(*(ad.tensor(a, requires_grad=True) for a in arrays),
                                mode="LSTM", reverse=False)
    for a, b in zip(plain, recorded):
        np.testing.assert_array_equal(a.data, b.data)


def test_a_sweep_without_factors_refuses_a_backward():
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _args()
    sweep = LSTMSweep(x, h0, c0, w_ih, w_hh, b_ih, b_hh, train=False)
    with pytest.raises(RuntimeError, match=r"LSTMSweep\.grads: no derivative factors"):
        sweep.grads(np.zeros((4, 3, 4)), h0, c0, [True] * 7)
    sweep = LSTMSweep(x, h0, c0, w_ih, w_hh, b_ih, b_hh, train=True)
    sweep.grads(np.zeros((4, 3, 4)), h0, c0, [True] * 7)
    with pytest.raises(RuntimeError, match="a backward wrote its dz over them"):
        sweep.grads(np.zeros((4, 3, 4)), h0, c0, [True] * 7)


def test_an_output_kept_is_not_overwritten_by_the_next_step():
    # the output is a view of a pooled buffer (autodiff.buffers): big enough to be pooled here
    lstm = nn.LSTM(28, 128)
    x1, x2 = ad.randn(28, 64, 28), ad.randn(28, 64, 28)
    out1, _ = lstm(x1)
    out1.sum().backward()
    kept = out1.data.copy()
    for _ in range(2):
        out2, _ = lstm(x2)
        out2.sum().backward()
    np.testing.assert_array_equal(out1.data, kept)
    assert not np.shares_memory(out1.data, out2.data)


def test_writing_the_output_in_place_is_caught():
    # the output is a view of the buffer the backward reads (the columns [h; x; 1])
    lstm = nn.LSTM(2, 3)
    out, _ = lstm(ad.randn(4, 1, 2))
    out[1] = 0.0
    with pytest.raises(RuntimeError, match="modified in place"):
        out.sum().backward()


def test_two_threads_walking_one_lstm_graph_at_once_both_get_the_gradient(monkeypatch):
    # Each backward checked that the factors were unclaimed, then claimed them in grads(): two
    # threads could both pass the check, and the second one's grads() raised (main), or, had
    # both passed grads()'s own check, written their dz over the same factors. The check and
    # the claim are now one step: the second backward recomputes factors of its own.
    import threading

    lstm = nn.LSTM(5, 4)
    lstm.double()
    x = ad.tensor(RNG.standard_normal((6, 3, 5)))
    out, _ = lstm(x)
    loss = (out * out).sum()
    expected = ad.gradients(loss, list(lstm.parameters()), retain_graph=True)
    out, _ = lstm(x)
    loss = (out * out).sum()
    arrived, real = threading.Event(), LSTMSweep.grads
    first = []

    def grads_when_both_arrived(self, *args, **kwargs):
        if not first:  # the first backward waits for the second to get this far
            first.append(1)
            arrived.wait(1.0)
        else:
            arrived.set()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(LSTMSweep, "grads", grads_when_both_arrived)
    errors = []

    def walk():
        try:
            loss.backward(retain_graph=True)
        except RuntimeError as e:
            errors.append(e)

    threads = [threading.Thread(target=walk) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors  # main: LSTMSweep.grads: no derivative factors
    for p, g in zip(lstm.parameters(), expected):
        np.testing.assert_allclose(p.grad.numpy(), 2 * g.numpy(), rtol=1e-12, atol=1e-12)
