"""nn.utils.rnn: PackedSequence and the functions that pack, pad and unpack. Against PyTorch
(float64: the packed data, batch sizes, indices, padded outputs and the gradients through
them), and without it: a batch packed by hand, round trips, gradcheck and gradgradcheck through
packing and unpacking, and every error path."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck, gradgradcheck
from nn.utils.rnn import (
    PackedSequence,
    invert_permutation,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

RNG = np.random.default_rng(0)
# (lengths, batch_first, enforce_sorted, trailing shape): ties, unsorted, a padded tail
CASES = [([3, 3, 1], False, True, (2,)), ([2, 4, 4, 1], True, False, (2,)),
         ([1, 3, 2], False, False, ()), ([2, 2], True, True, (2, 3))]


def _padded(lengths, batch_first, tail, extra=0):
    steps = max(lengths) + extra
    shape = (len(lengths), steps, *tail) if batch_first else (steps, len(lengths), *tail)
    return RNG.standard_normal(shape)


@pytest.mark.parametrize("case", CASES)
def test_pack_and_pad_match_pytorch(case):
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    from torch.nn.utils import rnn as R
    lengths, batch_first, enforce_sorted, tail = case
    x = _padded(lengths, batch_first, tail, extra=1)
    weights = RNG.standard_normal((sum(lengths), *tail))
    xa, xt = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = pack_padded_sequence(xa, lengths, batch_first, enforce_sorted)
    theirs = R.pack_padded_sequence(xt, torch.tensor(lengths), batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data.data, theirs.data.detach().numpy())
    for a, b in zip(ours[1:], theirs[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.dtype == np.int64
            np.testing.assert_array_equal(a.data, b.numpy())
    (ours.data * ad.tensor(weights)).sum().backward()
    (theirs.data * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(xa.grad.data, xt.grad.numpy())
    for total in (None, max(lengths) + 2):
        p1, l1 = pad_packed_sequence(ours, batch_first, -1.5, total)
        p2, l2 = R.pad_packed_sequence(theirs, batch_first, -1.5, total)
        np.testing.assert_array_equal(p1.data, p2.detach().numpy())
        np.testing.assert_array_equal(l1.data, l2.numpy())


def test_pad_sequence_and_pack_sequence_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch not installed (optional extra bench)")
    from torch.nn.utils import rnn as R
    seqs = [RNG.standard_normal((n, 2)) for n in (2, 4, 1)]
    for batch_first in (False, True):
        for side in ("right", "left"):
            ours = pad_sequence([ad.tensor(s) for s in seqs], batch_first, 7.0, side)
            theirs = R.pad_sequence([torch.tensor(s) for s in seqs], batch_first, 7.0, side)
            np.testing.assert_array_equal(ours.data, theirs.numpy())
    ours = pack_sequence([ad.tensor(s) for s in seqs], enforce_sorted=False)
    theirs = R.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.data, b.numpy())
    for a, b in zip(unpack_sequence(ours), R.unpack_sequence(theirs)):
        np.testing.assert_array_equal(a.data, b.numpy())


def test_a_batch_packed_by_hand():
    # lengths 2, 3, 1 (batch_first): sorted 1, 0, 2; steps hold 3, 2, 1 sequences
    x = ad.tensor([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0], [6.0, 0.0, 0.0]])
    p = pack_padded_sequence(x, [2, 3, 1], batch_first=True, enforce_sorted=False)
    assert p.data.tolist() == [3.0, 1.0, 6.0, 4.0, 2.0, 5.0]
    assert p.batch_sizes.tolist() == [3, 2, 1]
    assert p.sorted_indices.tolist() == [1, 0, 2]
    assert p.unsorted_indices.tolist() == [1, 0, 2]
    padded, lengths = pad_packed_sequence(p, batch_first=True, padding_value=9.0)
    assert padded.tolist() == [[1.0, 2.0, 9.0], [3.0, 4.0, 5.0], [6.0, 9.0, 9.0]]
    assert lengths.tolist() == [2, 3, 1] and lengths.dtype == np.int64
    assert [s.tolist() for s in unpack_sequence(p)] == [[1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]
    assert [s.tolist() for s in unpad_sequence(padded, lengths, batch_first=True)] == \
        [[1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]


def test_round_trips_keep_values_dtype_and_order():
    seqs = [ad.tensor(RNG.standard_normal((n, 3)).astype(np.float32)) for n in (1, 4, 2, 4)]
    p = pack_sequence(seqs, enforce_sorted=False)
    assert p.data.dtype == np.float32 and p.data.shape == (11, 3)
    for a, b in zip(unpack_sequence(p), seqs):
        np.testing.assert_array_equal(a.data, b.data)
    padded = pad_sequence(seqs, batch_first=True)
    again, lengths = pad_packed_sequence(
        pack_padded_sequence(padded, [1, 4, 2, 4], True, enforce_sorted=False), True)
    np.testing.assert_array_equal(again.data, padded.data)
    assert lengths.tolist() == [1, 4, 2, 4]


def test_gradients_of_any_order_flow_through_packing_and_unpacking():
    x = ad.tensor(RNG.standard_normal((3, 4, 2)))  # (T, B, 2)

    def f(x):
        p = pack_padded_sequence(x, [2, 3, 1, 3], enforce_sorted=False)
        p = PackedSequence(p.data * p.data, *p[1:])
        return pad_packed_sequence(p, batch_first=True, padding_value=0.5, total_length=4)[0]

    assert gradcheck(f, x)
    assert gradgradcheck(f, x)
    assert gradgradcheck(lambda *s: pad_sequence(s, padding_side="left") ** 2,
                         ad.tensor(RNG.standard_normal((2, 2))), ad.tensor([[0.3, -0.2]]))


def test_the_gradient_of_padding_is_zero_and_of_steps_one():
    x = ad.ones((3, 2), requires_grad=True)
    pack_padded_sequence(x, [3, 1]).data.sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0], [1.0, 0.0], [1.0, 0.0]]


def test_packed_sequence_is_pytorchs_tuple():
    p = PackedSequence(ad.ones((3, 2)), [2, 1], [1, 0])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert PackedSequence._fields == ("data", "batch_sizes", "sorted_indices",
                                      "unsorted_indices")
    assert batch_sizes.dtype == sorted_indices.dtype == unsorted_indices.dtype == np.int64
    assert invert_permutation([2, 0, 1]).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None and PackedSequence(data, [3]).unsorted_indices is None
    assert p.double().data.dtype == np.float64 and p.float() is p and not p.is_cuda
    assert p.double().sorted_indices is p.sorted_indices
    assert nn.utils.rnn.pack_sequence is pack_sequence
    assert nn.utils.clip_grad_norm_ is nn.optim.clip_grad_norm_


@pytest.mark.parametrize("call,match", [
    (lambda: pack_padded_sequence(ad.ones((3, 3)), [2, 3, 1]),
     r"pack_padded_sequence: lengths must be sorted in decreasing order when "
     r"enforce_sorted=True, got \[2, 3, 1\]; pass enforce_sorted=False"),
    (lambda: pack_padded_sequence(ad.ones((3, 3)), [3, 0, 1], enforce_sorted=False),
     r"pack_padded_sequence: every length must be at least 1, got lengths \[3, 0, 1\]"),
    (lambda: pack_padded_sequence(ad.ones((3, 3)), [3, 2, -1]),
     r"every length must be at least 1, got lengths \[3, 2, -1\]"),
    (lambda: pack_padded_sequence(ad.ones((3, 3)), [4, 2, 1]),
     r"pack_padded_sequence: lengths \[4, 2, 1\] exceed the input's 3 steps \(input of shape "
     r"\(3, 3\), batch_first=False\)"),
    (lambda: pack_padded_sequence(ad.ones((3, 2)), [3, 2, 1]),
     r"pack_padded_sequence: expected len\(lengths\) to equal the batch size 2 \(input of "
     r"shape \(3, 2\), batch_first=False\), got 3 lengths \[3, 2, 1\]"),
    (lambda: pack_padded_sequence(ad.ones((3, 0)), []),
     r"pack_padded_sequence: every length must be at least 1, got lengths \[\]"),
    (lambda: pack_padded_sequence(ad.ones((3, 2)), [[3, 2]]),
     r"pack_padded_sequence: lengths must be a 1-D sequence of ints, got \[\[3, 2\]\]"),
    (lambda: pack_padded_sequence(ad.ones((3, 2)), [2.5, 1]),
     r"lengths must be a 1-D sequence of ints, got \[2.5, 1.0\]"),
    (lambda: pack_padded_sequence(ad.ones(3), [3]),
     r"pack_padded_sequence: input must have a time and a batch dimension, got shape \(3,\)"),
    (lambda: pad_packed_sequence(pack_padded_sequence(ad.ones((3, 2)), [3, 2]),
                                 total_length=2),
     r"pad_packed_sequence: expected total_length to be at least the length of the longest "
     r"sequence in input, 3, got total_length=2"),
    (lambda: pad_sequence([ad.ones(2)], padding_side="up"),
     r"pad_sequence: expected padding_side to be one of 'left' or 'right', got 'up'"),
    (lambda: pad_sequence([]), r"pad_sequence: received an empty list of sequences"),
    (lambda: pack_sequence([]), r"pack_sequence: received an empty list of sequences"),
    (lambda: pad_sequence([ad.ones((2, 3)), ad.ones((2, 4))]),
     r"pad_sequence: every sequence must have the trailing shape and dtype of the first, "
     r"\(3,\) float32, got \(4,\) float32 at index 1 \(shape \(2, 4\)\)"),
    (lambda: pack_sequence([ad.ones(2), ad.ones(2, dtype=np.float64)]),
     r"pack_sequence: .* got \(\) float64 at index 1"),
    (lambda: PackedSequence(ad.ones(2), [2.5]),
     r"PackedSequence: batch_sizes must be a 1-D sequence of ints, got \[2.5\]"),
])
def test_errors_name_the_function_and_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("packed,match", [
    (PackedSequence(ad.ones((3, 2)), [1, 2]),
     r"pad_packed_sequence: a PackedSequence's batch_sizes must be positive and "
     r"non-increasing, got \[1, 2\]"),
    (PackedSequence(ad.ones((3, 2)), [2, 0]), r"positive and non-increasing, got \[2, 0\]"),
    (PackedSequence(ad.ones((3, 2)), []), r"positive and non-increasing, got \[\]"),
    (PackedSequence(ad.ones((4, 2)), [2, 1]),
     r"pad_packed_sequence: the PackedSequence's data has 4 rows \(shape \(4, 2\)\) but its "
     r"batch_sizes \[2, 1\] sum to 3"),
    (PackedSequence(ad.ones((3, 2)), [2, 1], [0, 2, 1]),
     r"pad_packed_sequence: the PackedSequence's sorted_indices must hold 2 indices "
     r"\(batch_sizes\[0\]\), got shape \(3,\)"),
])
def test_a_packed_sequence_that_disagrees_with_itself_is_refused(packed, match):
    with pytest.raises(ValueError, match=match):
        pad_packed_sequence(packed)


def test_pad_packed_sequence_wants_a_packed_sequence():
    with pytest.raises(TypeError, match="pad_packed_sequence: expected a PackedSequence, got "
                                        "Tensor"):
        pad_packed_sequence(ad.ones((3, 2)))
