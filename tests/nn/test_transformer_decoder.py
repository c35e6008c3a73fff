"""TransformerDecoderLayer, TransformerDecoder and Transformer (missing before): PyTorch's
names, order and initialization, the causal mask's effect, gradients, and values equal to
PyTorch's with the weights copied over."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck


def _decoder_layer(**kw):
    return nn.TransformerDecoderLayer(4, 2, 6, **{"dropout": 0.0, "dtype": np.float64, **kw})


def test_state_names_as_pytorchs():
    names = list(_decoder_layer().state_dict())
    assert names[:4] == ["self_attn.in_proj_weight", "self_attn.in_proj_bias",
                         "self_attn.out_proj.weight", "self_attn.out_proj.bias"]
    assert names[4] == "multihead_attn.in_proj_weight"
    assert names[-6:] == ["norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
                          "norm3.weight", "norm3.bias"]
    model = nn.Transformer(4, 2, 1, 2, 6)
    assert list(model.state_dict())[-2:] == ["decoder.norm.weight", "decoder.norm.bias"]
    assert len(model.decoder.layers) == 2 and model.decoder.layers[0] is not \
        model.decoder.layers[1]


@pytest.mark.parametrize("norm_first", [False, True])
def test_a_target_position_sees_no_later_one_under_the_causal_mask(norm_first):
    layer = _decoder_layer(norm_first=norm_first)
    rng = np.random.default_rng(0)
    tgt, memory = rng.standard_normal((4, 1, 4)), rng.standard_normal((3, 1, 4))
    mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=np.float64)
    out = layer(ad.tensor(tgt), ad.tensor(memory), tgt_mask=mask).data
    changed = tgt.copy()
    changed[2:] += 5.0  # later positions only
    out2 = layer(ad.tensor(changed), ad.tensor(memory), tgt_mask=mask).data
    np.testing.assert_array_equal(out[:2], out2[:2])
    assert not np.allclose(out[2:], out2[2:])


def test_generate_square_subsequent_mask():
    mask = nn.Transformer.generate_square_subsequent_mask(3)
    assert mask.dtype == np.float32
    assert mask.tolist() == [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]]


def test_gradients_of_the_decoder_layer():
    layer = _decoder_layer(norm_first=True, activation="gelu")
    rng = np.random.default_rng(1)
    tgt = ad.tensor(rng.standard_normal((2, 1, 4)), requires_grad=True)
    memory = ad.tensor(rng.standard_normal((3, 1, 4)), requires_grad=True)
    assert gradcheck(lambda t, m: layer(t, m), tgt, memory)


def test_transformer_initializes_matrices_by_xavier_uniform():
    ad.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16)
    w = model.decoder.layers[0].linear1.weight.data
    bound = (6 / (8 + 16)) ** 0.5
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert model.encoder.norm.weight.tolist() == [1.0] * 8  # vectors are left alone


def test_errors_name_the_layer():
    model = nn.Transformer(4, 2, 1, 1, 6)
    with pytest.raises(ValueError, match="Transformer: the batch number of src and tgt"):
        model(ad.zeros((3, 2, 4)), ad.zeros((3, 1, 4)))
    with pytest.raises(ValueError, match="feature number of src and tgt must be equal to "
                                         "d_model=4"):
        model(ad.zeros((3, 2, 4)), ad.zeros((3, 2, 5)))
    with pytest.raises(ValueError, match="TransformerDecoder: num_layers must be an int"):
        nn.TransformerDecoder(_decoder_layer(), 0)
    with pytest.raises(ValueError, match="TransformerDecoderLayer: activation must be"):
        nn.TransformerDecoderLayer(4, 2, activation="tanh")


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")  # PyTorch's, about its fast path
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("batch_first, norm_first", [(False, False), (True, True)])
def test_values_and_gradients_equal_pytorchs(full, batch_first, norm_first):
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    kw = {"dropout": 0.0, "batch_first": batch_first, "norm_first": norm_first}
    if full:
        ours, theirs = (nn.Transformer(4, 2, 1, 2, 6, dtype=np.float64, **kw),
                        torch.nn.Transformer(4, 2, 1, 2, 6, **kw).double())
    else:
        ours, theirs = _decoder_layer(**kw), torch.nn.TransformerDecoderLayer(4, 2, 6, **kw)
        theirs = theirs.double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for name, p in theirs.named_parameters():
            p.copy_(torch.from_numpy(ours.get_parameter(name).data))
    rng = np.random.default_rng(2)
    tgt = rng.standard_normal((2, 3, 4) if batch_first else (3, 2, 4))
    mem = rng.standard_normal((2, 5, 4) if batch_first else (5, 2, 4))
    mask = np.triu(np.ones((3, 3), bool), 1)
    padding = np.array([[False] * 5, [False, False, False, True, True]])
    a = [ad.tensor(x, requires_grad=True) for x in (tgt, mem)]
    t = [torch.tensor(x, requires_grad=True) for x in (tgt, mem)]
    if full:
        out_a = ours(a[1], a[0], tgt_mask=mask, src_key_padding_mask=padding,
                     memory_key_padding_mask=padding)
        out_t = theirs(t[1], t[0], tgt_mask=torch.tensor(mask),
                       src_key_padding_mask=torch.tensor(padding),
                       memory_key_padding_mask=torch.tensor(padding))
    else:
        out_a = ours(a[0], a[1], tgt_mask=mask, memory_key_padding_mask=padding)
        out_t = theirs(t[0], t[1], tgt_mask=torch.tensor(mask),
                       memory_key_padding_mask=torch.tensor(padding))
    np.testing.assert_allclose(out_a.data, out_t.detach().numpy(), rtol=0, atol=1e-13)
    g = rng.standard_normal(out_a.shape)
    (out_a * ad.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for x, y in zip(a, t):
        np.testing.assert_allclose(x.grad.data, y.grad.numpy(), rtol=0, atol=1e-13)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(ours.get_parameter(name).grad.data, p.grad.numpy(),
                                   rtol=0, atol=1e-13)
