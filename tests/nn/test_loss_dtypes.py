"""cross_entropy of integer or boolean logits is refused with an error naming the function and
the dtype (NumPy's "No loop matching the specified signature" leaked out before), batched or
not; PyTorch refuses them too."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F


@pytest.mark.parametrize("logits", [np.array([[2, 0, 0], [0, 1, 0]]),
                                    np.array([[True, False, False], [False, True, False]]),
                                    np.array([2, 0, 0], np.uint8)],
                         ids=["int64", "bool", "uint8-unbatched"])
def test_cross_entropy_refuses_integer_and_boolean_logits(logits):
    target = [0, 1] if logits.ndim == 2 else 0
    with pytest.raises(TypeError, match=rf"^cross_entropy: logits must be floating point, got "
                                        rf"dtype {logits.dtype}"):
        F.cross_entropy(ad.tensor(logits), target)
    with pytest.raises(TypeError, match=r"^cross_entropy: logits must be floating point"):
        nn.CrossEntropyLoss()(ad.tensor(logits), target)


def test_cross_entropy_of_the_same_logits_as_floats_works():
    logits = ad.tensor(np.array([[2, 0, 0], [0, 1, 0]], np.float32))
    loss = F.cross_entropy(logits, [0, 1])
    expected = np.mean([np.log(np.exp(2) + 2) - 2, np.log(np.e + 2) - 1])
    assert loss.dtype == np.float32 and abs(loss.item() - expected) < 1e-6
