"""Module.load_state_dict's result: the missing keys (a list, as before) carrying PyTorch's
`missing_keys` and `unexpected_keys`, so a non-strict load says what it skipped."""

import numpy as np
import pytest

import nn


def model():
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 1))


def test_non_strict_names_the_unexpected_keys_it_skipped():
    state = {k: v for k, v in model().state_dict().items() if k != "0.bias"}
    state["head.weight"] = np.ones((1, 3))
    state["1.num_batches_tracked"] = np.array(5)  # PyTorch's: accepted, neither list
    result = model().load_state_dict(state, strict=False)
    assert result == ["0.bias"]
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["head.weight"]


def test_a_full_load_reports_nothing():
    net = model()
    result = net.load_state_dict(net.state_dict())
    assert result == [] and result.missing_keys == [] and result.unexpected_keys == []


def test_against_pytorchs_result():
    torch = pytest.importorskip("torch", reason="PyTorch's load_state_dict is the reference")
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(3, 1))
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items() if k != "1.weight"}
    state["extra"] = np.ones(1)
    expected = theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()},
                                      strict=False)
    ours = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1)).load_state_dict(state, strict=False)
    assert ours.missing_keys == expected.missing_keys
    assert ours.unexpected_keys == expected.unexpected_keys


def test_strict_names_both_lists():
    state = {k: v for k, v in model().state_dict().items() if k != "0.bias"}
    state["head.weight"] = np.ones((1, 3))
    with pytest.raises(KeyError, match=r"missing keys \['0.bias'\], unexpected keys "
                                        r"\['head.weight'\]"):
        model().load_state_dict(state)
