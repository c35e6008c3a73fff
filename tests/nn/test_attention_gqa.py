"""scaled_dot_product_attention(enable_gqa=True) (PyTorch's keyword, missing before): key and
value with fewer heads, each serving a run of consecutive query heads."""

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck


def test_grouped_heads_equal_repeated_keys_and_values():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in [(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 3)])
    out = F.scaled_dot_product_attention(ad.tensor(q), ad.tensor(k), ad.tensor(v),
                                         enable_gqa=True, is_causal=True)
    full = F.scaled_dot_product_attention(ad.tensor(q), ad.tensor(np.repeat(k, 2, axis=1)),
                                          ad.tensor(np.repeat(v, 2, axis=1)), is_causal=True)
    np.testing.assert_array_equal(out.data, full.data)
    assert out.shape == (2, 4, 3, 3)


def test_grouped_heads_gradients():
    rng = np.random.default_rng(1)
    q, k, v = (ad.tensor(rng.standard_normal(s), requires_grad=True)
               for s in [(4, 2, 3), (2, 3, 3), (2, 3, 2)])
    assert gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, enable_gqa=True),
                     q, k, v)
    assert gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c,
                                                                        enable_gqa=True),
                         q, k, v)


def test_heads_that_do_not_divide_are_refused():
    with pytest.raises(ValueError, match="the query's 3 heads must be a multiple of the key's "
                                         "and value's 2"):
        F.scaled_dot_product_attention(ad.ones((3, 2, 4)), ad.ones((2, 2, 4)),
                                       ad.ones((2, 2, 4)), enable_gqa=True)
    with pytest.raises(ValueError, match="enable_gqa needs query, key and value with a heads"):
        F.scaled_dot_product_attention(ad.ones((2, 4)), ad.ones((2, 4)), ad.ones((2, 4)),
                                       enable_gqa=True)


def test_grouped_heads_equal_pytorchs():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s) for s in [(1, 6, 3, 4), (1, 3, 5, 4), (1, 3, 5, 2)])
    a = [ad.tensor(x, requires_grad=True) for x in (q, k, v)]
    t = [torch.tensor(x, requires_grad=True) for x in (q, k, v)]
    out_a = F.scaled_dot_product_attention(*a, enable_gqa=True, scale=0.3)
    out_t = torch.nn.functional.scaled_dot_product_attention(*t, enable_gqa=True, scale=0.3)
    np.testing.assert_allclose(out_a.data, out_t.detach().numpy(), rtol=0, atol=1e-15)
    g = rng.standard_normal(out_a.shape)
    (out_a * ad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for x, y in zip(a, t):
        np.testing.assert_allclose(x.grad.data, y.grad.numpy(), rtol=0, atol=1e-14)
