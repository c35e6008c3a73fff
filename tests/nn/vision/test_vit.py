"""The Vision Transformer: torchvision's parameter names and count, the forward written out,
training, errors, and torchvision's randomly initialized weights loaded into ours (where
torchvision is installed: the `bench` extra)."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn.vision import models
from nn.vision.vit import VisionTransformer, vit_small_mnist, vit_tiny


def test_vit_tiny_parameter_count_and_names():
    model = vit_tiny()
    assert sum(p.size for p in model.parameters()) == 5_717_416
    names = list(model.state_dict())
    assert names[:4] == ["class_token", "conv_proj.weight", "conv_proj.bias",
                         "encoder.pos_embedding"]
    assert "encoder.layers.encoder_layer_11.mlp.3.weight" in names
    assert "encoder.layers.encoder_layer_0.self_attention.in_proj_weight" in names
    assert names[-4:] == ["encoder.ln.weight", "encoder.ln.bias", "heads.head.weight",
                          "heads.head.bias"]
    assert model.encoder.pos_embedding.shape == (1, 197, 192)
    assert models.vit_tiny is vit_tiny and models.VisionTransformer is VisionTransformer


def test_vit_small_mnist_count_and_table():
    assert sum(p.size for p in vit_small_mnist().parameters()) == 139_018
    assert models.get_model("vit_small_mnist", num_classes=10, in_channels=1,
                            dropout=0.0).seq_length == 17


def test_vit_forward_written_out():
    ad.manual_seed(0)
    model = VisionTransformer(image_size=8, patch_size=4, num_layers=1, num_heads=2,
                              hidden_dim=8, mlp_dim=16, num_classes=3, in_channels=1)
    nn.init.normal_(model.heads.head.weight)
    x = ad.randn(2, 1, 8, 8)
    # patches by hand: (N, 4 patches, 16 pixels) @ the convolution's weight as a matrix
    p = x.data.reshape(2, 1, 2, 4, 2, 4).transpose(0, 2, 4, 1, 3, 5).reshape(2, 4, 16)
    tokens = p @ model.conv_proj.weight.data.reshape(8, 16).T + model.conv_proj.bias.data
    cls = np.broadcast_to(model.class_token.data, (2, 1, 8))
    h = ad.tensor(np.concatenate([cls, tokens], 1) + model.encoder.pos_embedding.data)
    block = model.encoder.layers.encoder_layer_0
    y = block.ln_1(h)
    h = h + block.self_attention(y, y, y)[0]
    h = h + block.mlp[3](F.gelu(block.mlp[0](block.ln_2(h))))
    want = model.heads.head(model.encoder.ln(h)[:, 0])
    np.testing.assert_allclose(model(x).data, want.data, rtol=1e-5, atol=1e-6)


def test_vit_init_as_torchvision():
    ad.manual_seed(0)
    model = vit_small_mnist()
    assert (model.heads.head.weight.data == 0).all() and (model.class_token.data == 0).all()
    assert 0.015 < model.encoder.pos_embedding.data.std() < 0.025
    w = model.conv_proj.weight.data
    assert abs(w.std() * 7 - 1) < 0.1  # std sqrt(1 / fan_in), fan_in = 49
    b = model.encoder.layers.encoder_layer_0.mlp[0].bias.data
    assert np.abs(b).max() < 1e-5 and np.abs(b).max() > 0


def test_vit_small_mnist_learns_a_batch():
    ad.manual_seed(0)
    model = vit_small_mnist(width=16, depth=1, num_heads=2)
    x = ad.tensor(np.random.default_rng(0).random((8, 1, 28, 28), dtype=np.float32))
    y = np.arange(8) % 2
    opt = nn.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert loss.dtype == np.float32 and losses[-1] < 0.5 * losses[0]


def test_vit_errors():
    with pytest.raises(ValueError, match="image_size 30 is not a multiple of patch_size 7"):
        VisionTransformer(30, 7, 1, 1, 4, 4)
    model = vit_small_mnist(width=8, depth=1, num_heads=2)
    with pytest.raises(ValueError, match="expected 28x28 images, got 32x32"):
        model(ad.zeros((1, 1, 32, 32)))
    with pytest.raises(ValueError, match=r"expected \(N, C, H, W\), got \(28, 28\)"):
        model(ad.zeros((28, 28)))


def test_torchvision_weights_give_the_same_outputs():
    torch = pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")
    tv = pytest.importorskip("torchvision", reason="torchvision (the bench extra) compares "
                             "ViT outputs; not installed here")
    torch.manual_seed(0)
    # image_size 32 (4 patches + the class token) keeps the test fast; the layers are vit_tiny's
    theirs = tv.models.VisionTransformer(image_size=32, patch_size=16, num_layers=12,
                                         num_heads=3, hidden_dim=192, mlp_dim=768).eval()
    torch.nn.init.normal_(theirs.heads.head.weight, std=0.02)  # zero at init: outputs would be 0
    torch.nn.init.normal_(theirs.class_token, std=0.02)
    ours = vit_tiny(image_size=32)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    with torch.no_grad():
        want = theirs(torch.tensor(x)).numpy()
    got = ours(ad.tensor(x)).data
    assert got.shape == (2, 1000) and np.abs(want).max() > 0.1
    np.testing.assert_allclose(got, want, atol=1e-4)
