"""F.scaled_dot_product_attention, nn.MultiheadAttention, nn.TransformerEncoderLayer and
nn.TransformerEncoder: closed forms, finite differences (first and second order), errors, and
values and gradients against PyTorch in float64 where it is installed."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from autodiff.testing import gradcheck, gradgradcheck
from nn.functional.attention import attention

sdpa = F.scaled_dot_product_attention


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _reference(q, k, v, mask=None, scale=None):
    """softmax(q k^T * scale + mask) v in NumPy, with masked-out keys by boolean index."""
    s = q @ np.swapaxes(k, -1, -2) * (scale or 1 / np.sqrt(q.shape[-1]))
    if mask is not None:
        s = np.where(mask, s, -np.inf) if mask.dtype == bool else s + mask
    e = np.exp(s - s.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)) @ v


# -- scaled_dot_product_attention -----------------------------------------------------------

def test_sdpa_closed_form():
    # one query, two keys: scores 1/sqrt(2) * (1, 0); softmax weights (e^a, 1) / (e^a + 1)
    q, k = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[2.0], [4.0]])
    a = 1 / np.sqrt(2)
    want = (2 * np.exp(a) + 4) / (np.exp(a) + 1)
    np.testing.assert_allclose(sdpa(ad.tensor(q), ad.tensor(k), ad.tensor(v)).data, [[want]],
                               rtol=1e-6)


@pytest.mark.parametrize("mask_kind", ["none", "bool", "float"])
def test_sdpa_matches_numpy_reference(mask_kind):
    q, k, v = _rand(2, 3, 4, 5), _rand(2, 3, 6, 5, seed=1), _rand(1, 3, 6, 7, seed=2)
    mask = {"none": None, "bool": _rand(4, 6, seed=3) > -0.5, "float": _rand(4, 6, seed=3)}[
        mask_kind]
    if mask_kind == "bool":
        mask[:, 0] = True  # every query sees a key
    out = sdpa(ad.tensor(q), ad.tensor(k), ad.tensor(v), attn_mask=mask)
    assert out.shape == (2, 3, 4, 7) and out.dtype == np.float64
    np.testing.assert_allclose(out.data, _reference(q, k, v, mask), atol=1e-12)


def test_sdpa_causal_scale_and_float32():
    q, k, v = (_rand(2, 4, 3, seed=s).astype(np.float32) for s in range(3))
    out = sdpa(ad.tensor(q), ad.tensor(k), ad.tensor(v), is_causal=True, scale=0.3)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, _reference(q, k, v, np.tril(np.ones((4, 4), bool)),
                                                    0.3), rtol=1e-5)
    np.testing.assert_allclose(out.data[:, 0], v[:, 0], rtol=1e-6)  # query 0 sees key 0 only


def test_sdpa_query_that_sees_no_key_gets_zeros_and_zero_gradient():
    q, k, v = (ad.tensor(_rand(3, 2, seed=s), requires_grad=True) for s in range(3))
    mask = np.array([[True, True, False], [False, False, False], [True, False, False]])
    out = sdpa(q, k, v, attn_mask=mask)
    np.testing.assert_array_equal(out.data[1], 0.0)
    out.sum().backward()
    assert np.isfinite(q.grad.data).all() and (q.grad.data[1] == 0).all()


def test_sdpa_gradcheck_and_gradgradcheck():
    q, k, v = _rand(2, 3, 2), _rand(2, 4, 2, seed=1), _rand(1, 4, 3, seed=2)
    m = _rand(3, 4, seed=3)
    assert gradcheck(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), q, k, v, m)
    assert gradgradcheck(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), q, k, v, m)
    # the weights output (P) feeds the second derivative back into the same node
    assert gradgradcheck(lambda q, k, v: attention(q, k, v, is_causal=True), q[:, :3],
                         k[:, :3], v[:, :3])


def test_sdpa_dropout_gradgradcheck_and_expectation():
    q, k, v = _rand(2, 3, 2), _rand(2, 4, 2, seed=1), _rand(2, 4, 3, seed=2)

    def f(q, k, v):
        ad.manual_seed(5)  # the same dropout mask at every evaluation
        return attention(q, k, v, dropout_p=0.4)

    assert gradgradcheck(f, q, k, v)
    ad.manual_seed(0)
    out, w = attention(ad.tensor(q), ad.tensor(k), ad.tensor(v), dropout_p=0.4)
    kept = w.data != 0
    assert 0.3 < 1 - kept.mean() < 0.6  # about 40% of the weights dropped
    assert not np.allclose(out.data, _reference(q, k, v))
    np.testing.assert_array_equal(sdpa(ad.tensor(q), ad.tensor(k), ad.tensor(v),
                                       dropout_p=1.0).data, 0.0)


def test_sdpa_float_mask_gets_a_gradient():
    q, k, v = (ad.tensor(_rand(2, 3, 2, seed=s)) for s in range(3))
    m = ad.tensor(np.zeros((3, 3)), requires_grad=True)
    sdpa(q, k, v, attn_mask=m).sum().backward()
    assert m.grad.shape == (3, 3) and np.abs(m.grad.data).max() > 0
    assert gradcheck(lambda m: sdpa(q, k, v, attn_mask=m), m)


def test_sdpa_errors():
    x = ad.ones((2, 3, 4))
    with pytest.raises(ValueError, match="scaled_dot_product_attention: is_causal=True with an "
                                         "attn_mask"):
        sdpa(x, x, x, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"query and key must have the same last axis E, got "
                                         r"shapes \(2, 3, 4\) and \(2, 3, 5\)"):
        sdpa(x, ad.ones((2, 3, 5)), x)
    with pytest.raises(ValueError, match="key and value must have the same number of keys"):
        sdpa(x, x, ad.ones((2, 2, 4)))
    with pytest.raises(ValueError, match=r"leading axes .* do not broadcast"):
        sdpa(x, ad.ones((3, 3, 4)), ad.ones((3, 3, 4)))
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 3\) does not broadcast"):
        sdpa(x, x, x, attn_mask=np.ones((4, 3), bool))
    with pytest.raises(TypeError, match="attn_mask must be boolean or floating"):
        sdpa(x, x, x, attn_mask=np.ones((3, 3), np.int64))
    with pytest.raises(ValueError, match=r"dropout_p must be in \[0, 1\], got 1.5"):
        sdpa(x, x, x, dropout_p=1.5)
    with pytest.raises(ValueError, match="at least 2 axes"):
        sdpa(ad.ones(4), x, x)
    with pytest.raises(TypeError, match="share one floating dtype"):
        sdpa(x, x, ad.ones((2, 3, 4), dtype="float64"))
    with pytest.raises(TypeError, match="must have the query's dtype"):
        sdpa(x, x, x, attn_mask=ad.zeros((3, 3), dtype="float64", requires_grad=True))


@pytest.mark.parametrize("case", ["plain", "bool", "float", "causal", "broadcast", "scale"])
def test_sdpa_matches_pytorch(case):
    torch = _torch()
    q, k, v = _rand(2, 3, 4, 5), _rand(2, 3, 6, 5, seed=1), _rand(2, 3, 6, 7, seed=2)
    if case == "causal":
        k, v = k[:, :, :4], v[:, :, :4]
    if case == "broadcast":
        v = v[:1]
    mask = {"bool": _rand(2, 1, 4, 6, seed=3) > -0.3, "float": _rand(4, 6, seed=3)}.get(case)
    kw = {"is_causal": case == "causal", "scale": 0.7 if case == "scale" else None}
    ours = [ad.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = sdpa(*ours, attn_mask=mask, **kw)
    want = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), **kw)
    g = _rand(*out.shape, seed=9)
    (out * g).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(out.data, want.detach().numpy(), atol=1e-13)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-13)


# -- MultiheadAttention ---------------------------------------------------------------------

def test_mha_parameters_and_init():
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(12, 3)
    names = {k: tuple(v.shape) for k, v in mha.named_parameters()}
    assert names == {"in_proj_weight": (36, 12), "in_proj_bias": (36,),
                     "out_proj.weight": (12, 12), "out_proj.bias": (12,)}
    bound = np.sqrt(6 / (12 + 36))  # xavier_uniform over the (3E, E) matrix
    w = mha.in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert (mha.in_proj_bias.data == 0).all() and (mha.out_proj.bias.data == 0).all()
    kv = nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert {k: tuple(v.shape) for k, v in kv.named_parameters()} == {
        "q_proj_weight": (8, 8), "k_proj_weight": (8, 3), "v_proj_weight": (8, 5),
        "out_proj.weight": (8, 8)}


def test_mha_one_head_is_attention_of_the_projections():
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(4, 1, batch_first=True)
    mha.in_proj_bias.data[...] = _rand(12, seed=4).astype(np.float32)
    x = _rand(2, 3, 4).astype(np.float32)
    out, w = mha(ad.tensor(x), ad.tensor(x), ad.tensor(x))
    W, b = mha.in_proj_weight.data, mha.in_proj_bias.data
    q, k, v = (x @ W[i * 4:(i + 1) * 4].T + b[i * 4:(i + 1) * 4] for i in range(3))
    want = _reference(q, k, v) @ mha.out_proj.weight.data.T + mha.out_proj.bias.data
    np.testing.assert_allclose(out.data, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.data.sum(-1), 1.0, rtol=1e-6)


def test_mha_masks_shapes_and_layouts():
    mha = nn.MultiheadAttention(4, 2)
    x = ad.randn(3, 2, 4)  # (L, N, E)
    pad = np.array([[False, False, True], [False, False, False]])
    out, w = mha(x, x, x, key_padding_mask=pad, average_attn_weights=False)
    assert out.shape == (3, 2, 4) and w.shape == (2, 2, 3, 3)
    assert (w.data[0, :, :, 2] == 0).all() and (w.data[1, :, :, 2] > 0).all()
    causal = np.triu(np.ones((3, 3), bool), 1)  # True: may not attend
    _, w = mha(x, x, x, attn_mask=causal, is_causal=True)
    np.testing.assert_array_equal(w.data[:, 0, 1:], 0.0)
    out, w = mha(x[:, 0], x[:, 0], x[:, 0], attn_mask=np.zeros((2, 3, 3)))  # unbatched
    assert out.shape == (3, 4) and w.shape == (3, 3)
    assert mha(x, x, x, need_weights=False)[1] is None
    batch_first = nn.MultiheadAttention(4, 2, batch_first=True)
    batch_first.load_state_dict(mha.state_dict())
    np.testing.assert_allclose(batch_first(x.swapaxes(0, 1), x.swapaxes(0, 1),
                                           x.swapaxes(0, 1))[0].data,
                               mha(x, x, x)[0].data.swapaxes(0, 1), rtol=1e-6)


def test_mha_bias_kv_and_zero_attn_are_appended_keys():
    """add_bias_kv appends the learned bias_k, bias_v (1, 1, E) to the projected keys and
    values, add_zero_attn a zero key and value per head: the output is attention over those
    S + 2 keys (a NumPy reference, one head), the masks let them be attended, and the
    parameters are initialized xavier_normal (std sqrt(2 / (E + E)))."""
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(4, 1, batch_first=True, add_bias_kv=True, add_zero_attn=True,
                                dtype="float64")
    assert [k for k, _ in mha.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight",
        "out_proj.bias"]
    mha.in_proj_bias.data[...] = _rand(12, seed=4)
    x = _rand(2, 3, 4)
    pad = np.array([[False, True, False], [False, False, False]])
    out, w = mha(ad.tensor(x), ad.tensor(x), ad.tensor(x), key_padding_mask=pad)
    W, b = mha.in_proj_weight.data, mha.in_proj_bias.data
    q, k, v = (x @ W[i * 4:(i + 1) * 4].T + b[i * 4:(i + 1) * 4] for i in range(3))
    bk, bv = (np.broadcast_to(t.data, (2, 1, 4)) for t in (mha.bias_k, mha.bias_v))
    k = np.concatenate([k, bk, np.zeros((2, 1, 4))], axis=1)
    v = np.concatenate([v, bv, np.zeros((2, 1, 4))], axis=1)
    scores = q @ k.swapaxes(1, 2) / 2.0 + np.where(np.pad(pad, ((0, 0), (0, 2))), -np.inf,
                                                   0.0)[:, None, :]
    p = np.exp(scores - scores.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    want = p @ v @ mha.out_proj.weight.data.T + mha.out_proj.bias.data
    np.testing.assert_allclose(out.data, want, rtol=1e-12)
    np.testing.assert_allclose(w.data, p, rtol=1e-12)
    assert w.shape == (2, 3, 5) and (w.data[0, :, 1] == 0).all() and (w.data[:, :, 3:] > 0).all()
    big = nn.MultiheadAttention(1000, 4, add_bias_kv=True)
    assert abs(big.bias_k.data.std() - np.sqrt(2 / 2000)) < 0.003
    assert gradgradcheck(lambda t: mha(t, t, t)[0], ad.tensor(_rand(1, 2, 4, seed=5)))


def test_mha_gradgradcheck():
    ad.manual_seed(0)
    mha = nn.MultiheadAttention(4, 2, batch_first=True, dtype="float64")
    x, y = _rand(1, 3, 4), _rand(1, 2, 4, seed=1)
    assert gradgradcheck(lambda x, y: mha(x, y, y)[0], x, y)


def test_mha_dropout_only_in_training():
    mha = nn.MultiheadAttention(4, 2, dropout=0.5)
    x = ad.randn(5, 2, 4)
    mha.eval()
    a, b = mha(x, x, x)[0], mha(x, x, x)[0]
    np.testing.assert_array_equal(a.data, b.data)
    mha.train()
    _, w = mha(x, x, x, average_attn_weights=False)
    assert (w.data == 0).mean() > 0.2  # PyTorch's weights are returned after dropout


def test_mha_errors():
    with pytest.raises(ValueError, match="embed_dim must be a positive multiple of num_heads, "
                                         "got embed_dim=5, num_heads=2"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\], got -0.1"):
        nn.MultiheadAttention(4, 2, dropout=-0.1)
    mha = nn.MultiheadAttention(4, 2)
    x = ad.ones((3, 2, 4))
    with pytest.raises(ValueError, match=r"query has 5 features \(shape \(3, 2, 5\)\) but the "
                                         "layer expects 4"):
        mha(ad.ones((3, 2, 5)), x, x)
    with pytest.raises(ValueError, match="must all be 3-D"):
        mha(x, x[0], x[0])
    with pytest.raises(ValueError, match="is_causal=True is a hint"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(3, 3\) or \(4, 3, 3\)"):
        mha(x, x, x, attn_mask=np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(2, 3\)"):
        mha(x, x, x, key_padding_mask=np.zeros((3, 2), bool))
    with pytest.raises(TypeError, match="key_padding_mask must be boolean or floating"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 3), np.int64))
    with pytest.raises(ValueError, match="disagree on the batch"):
        mha(x, ad.ones((3, 1, 4)), ad.ones((3, 1, 4)))


def _mha_pair(torch, E, H, **kw):
    theirs = torch.nn.MultiheadAttention(E, H, **kw).double()
    ours = nn.MultiheadAttention(E, H, dtype="float64", **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # PyTorch's
@pytest.mark.parametrize("case", ["self", "cross", "kdim", "unbatched", "masks", "nobias",
                                  "bias_kv", "zero_attn", "both_masks", "both_unbatched"])
def test_mha_matches_pytorch(case):
    torch = _torch()
    kw = {"batch_first": case in ("self", "masks", "both_masks"), "bias": case != "nobias"}
    if case == "kdim":
        kw.update(kdim=3, vdim=5)
    if case in ("bias_kv", "both_masks", "both_unbatched"):
        kw.update(add_bias_kv=True)
    if case in ("zero_attn", "both_masks", "both_unbatched"):
        kw.update(add_zero_attn=True)
    ours, theirs = _mha_pair(torch, 8, 4 if case in ("masks", "both_masks") else 2, **kw)
    L, S, N = 3, 5, 2
    lay = (lambda n, l, e: (n, l, e)) if kw["batch_first"] else (lambda n, l, e: (l, n, e))
    if case in ("unbatched", "both_unbatched"):
        lay = lambda n, l, e: (l, e)  # noqa: E731
    q = _rand(*lay(N, L, 8))
    k, v = _rand(*lay(N, S, kw.get("kdim", 8)), seed=1), _rand(*lay(N, S, kw.get("vdim", 8)),
                                                             seed=2)
    if case in ("self", "nobias"):
        k = v = q
        S = L
    masks = {}
    if case in ("masks", "both_masks"):
        pad = np.zeros((N, S), bool)
        pad[0, -2:] = True
        masks = {"key_padding_mask": pad, "attn_mask": _rand(N * 4, L, S, seed=3),
                 "average_attn_weights": False}
    tq = torch.tensor(q, requires_grad=True)
    tk = tq if k is q else torch.tensor(k, requires_grad=True)
    tv = tk if v is k else torch.tensor(v, requires_grad=True)
    aq = ad.tensor(q, requires_grad=True)
    ak = aq if k is q else ad.tensor(k, requires_grad=True)
    av = ak if v is k else ad.tensor(v, requires_grad=True)
    out, w = ours(aq, ak, av, **masks)
    tmasks = {k_: torch.tensor(m) if isinstance(m, np.ndarray) else m
              for k_, m in masks.items()}
    tout, tw = theirs(tq, tk, tv, **tmasks)
    g, gw = _rand(*out.shape, seed=7), _rand(*w.shape, seed=8)
    ((out * g).sum() + (w * gw).sum()).backward()
    ((tout * torch.tensor(g)).sum() + (tw * torch.tensor(gw)).sum()).backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), atol=1e-13)
    np.testing.assert_allclose(w.data, tw.detach().numpy(), atol=1e-13)
    for a, b in {(aq, tq), (ak, tk), (av, tv)}:
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), atol=1e-13)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, tp[name].grad.numpy(), atol=1e-12,
                                   err_msg=name)


# -- TransformerEncoderLayer, TransformerEncoder --------------------------------------------

def test_encoder_layer_submodules_and_copies():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    assert [n for n, _ in layer.named_children()] == [
        "self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1", "dropout2"]
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
    assert {k.split(".")[1] for k in enc.state_dict() if k.startswith("layers.")} == {"0", "1"}
    assert enc.layers[0].linear1.weight is not layer.linear1.weight
    np.testing.assert_array_equal(enc.layers[1].linear1.weight.data, layer.linear1.weight.data)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_closed_form_without_dropout(norm_first):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0,
                                       norm_first=norm_first, batch_first=True)
    x = ad.randn(2, 3, 4)
    sa = lambda h: layer.self_attn(h, h, h, need_weights=False)[0]  # noqa: E731
    ff = lambda h: layer.linear2(F.relu(layer.linear1(h)))  # noqa: E731
    if norm_first:
        h = x + sa(layer.norm1(x))
        want = h + ff(layer.norm2(h))
    else:
        h = layer.norm1(x + sa(x))
        want = layer.norm2(h + ff(h))
    np.testing.assert_allclose(layer(x).data, want.data, rtol=1e-6)


def test_encoder_gradgradcheck_gelu():
    ad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0,
                                       activation="gelu", norm_first=True)
    enc = nn.TransformerEncoder(layer, 1).to(np.float64)
    assert gradgradcheck(lambda x: enc(x, src_key_padding_mask=np.array([[False, True]])),
                         _rand(2, 1, 4))


def test_encoder_layer_dtype():
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dtype="float64")
    assert {p.dtype for p in layer.parameters()} == {np.dtype("float64")}
    assert layer(ad.tensor(_rand(3, 1, 4))).dtype == np.float64


def test_encoder_errors():
    with pytest.raises(ValueError, match="activation must be 'relu', 'gelu' or a callable, "
                                         "got 'tanh'"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation must be"):
        nn.TransformerEncoderLayer(4, 2, activation=3)
    with pytest.raises(ValueError, match="num_layers must be at least 1, got 0"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2), 0)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_matches_pytorch(norm_first, activation):
    torch = _torch()
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation,
                                          norm_first=norm_first)
    theirs = torch.nn.TransformerEncoder(tl, 2, norm=torch.nn.LayerNorm(8),
                                         enable_nested_tensor=False).double()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(
        8, 2, 16, dropout=0.0, activation=activation, norm_first=norm_first), 2,
        norm=nn.LayerNorm(8)).to(np.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = _rand(4, 3, 8)  # (L, N, E)
    pad = np.zeros((3, 4), bool)
    pad[0, -1] = True
    causal = np.triu(np.ones((4, 4), bool), 1)
    ax, tx = ad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours(ax, mask=causal, src_key_padding_mask=pad, is_causal=True)
    want = theirs(tx, mask=torch.tensor(causal), src_key_padding_mask=torch.tensor(pad),
                  is_causal=True)
    g = _rand(*out.shape, seed=5)
    (out * g).sum().backward()
    (want * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(out.data, want.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(ax.grad.data, tx.grad.numpy(), atol=1e-12)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.data, tp[name].grad.numpy(), atol=1e-12,
                                   err_msg=name)
