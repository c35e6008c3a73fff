"""Edge cases of scaled_dot_product_attention a hostile user hits: no keys at all, float16
accuracy; each checked without PyTorch and, where it is installed, against it."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F

sdpa = F.scaled_dot_product_attention


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _exact(q, k, v):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v


def test_no_keys_gives_zeros_and_zero_gradients():
    # S = 0: every query sees no key, so (as a fully masked row) its output is zeros
    q = ad.tensor(_rand(2, 3, 4), requires_grad=True)
    k = ad.tensor(np.zeros((2, 0, 4)), requires_grad=True)
    v = ad.tensor(np.zeros((2, 0, 5)), requires_grad=True)
    out = sdpa(q, k, v)
    assert out.shape == (2, 3, 5)
    np.testing.assert_array_equal(out.data, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(q.grad.data, 0.0)
    assert k.grad.shape == (2, 0, 4) and v.grad.shape == (2, 0, 5)


def test_float16_is_accumulated_in_float32():
    # scores of size ~10 in float16 lose ~1e-2 when the softmax runs in half precision
    q, k, v = _rand(2, 16, 32, seed=1) * 2, _rand(2, 20, 32, seed=2) * 2, _rand(2, 20, 32, seed=3)
    half = [ad.tensor(a.astype(np.float16), requires_grad=True) for a in (q, k, v)]
    out = sdpa(*half)
    assert out.dtype == np.float16
    exact = _exact(*(a.astype(np.float16).astype(np.float64) for a in (q, k, v)))
    # one rounding of the float32 result to half: half an ulp of values below 4
    assert np.abs(out.data.astype(np.float64) - exact).max() <= 2.0 ** -10
    out.sum().backward()
    assert all(t.grad.dtype == np.float16 for t in half)


def test_no_keys_and_float16_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    tf = torch.nn.functional.scaled_dot_product_attention
    q, k, v = _rand(2, 3, 4), np.zeros((2, 0, 4)), np.zeros((2, 0, 5))
    want = tf(*(torch.tensor(a) for a in (q, k, v))).numpy()
    np.testing.assert_array_equal(sdpa(ad.tensor(q), ad.tensor(k), ad.tensor(v)).data, want)
    q, k, v = _rand(2, 16, 32, seed=1) * 2, _rand(2, 20, 32, seed=2) * 2, _rand(2, 20, 32, seed=3)
    want = tf(*(torch.tensor(a.astype(np.float16)) for a in (q, k, v))).numpy()
    got = sdpa(*(ad.tensor(a.astype(np.float16)) for a in (q, k, v))).data
    np.testing.assert_allclose(got.astype(np.float32), want.astype(np.float32), atol=2.0 ** -10)


def test_mha_query_with_every_key_masked_gets_zero_weights_and_the_output_bias():
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype=np.float64)
    nn.init.uniform_(mha.out_proj.bias)
    x = ad.tensor(_rand(2, 3, 4))
    kpm = np.array([[True, True, True], [False, True, False]])
    out, w = mha(x, x, x, key_padding_mask=kpm)
    np.testing.assert_array_equal(w.data[0], 0.0)
    np.testing.assert_allclose(out.data[0], np.broadcast_to(mha.out_proj.bias.data, (3, 4)))
    assert np.isfinite(out.data).all() and np.isfinite(w.data).all()


@pytest.mark.parametrize("name", ["key_padding_mask", "attn_mask"])
def test_mha_a_mask_requiring_grad_in_another_dtype_is_named(name):
    # (before: "a float attn_mask that requires grad" even for the key_padding_mask)
    mha = nn.MultiheadAttention(4, 2, dtype=np.float64)
    x = ad.tensor(_rand(3, 2, 4))
    mask = ad.zeros((2, 3) if name == "key_padding_mask" else (3, 3), requires_grad=True)
    with pytest.raises(TypeError, match=f"MultiheadAttention: a float {name} that requires "
                                        "grad must have the layer's dtype float64, got float32"):
        mha(x, x, x, **{name: mask})
