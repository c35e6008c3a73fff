"""The model zoo against torchvision: the same state-dict names, in the same order, with the
same shapes; torchvision's randomly initialized weights (batch norms given random statistics)
loaded here through a .safetensors file give the same outputs in eval mode, and ours load
there (strict). Tolerance: 1e-4 of the outputs' largest magnitude, at least 1e-4 (float32;
measured: at most 9.1e-7 of it, on ResNet-50, whose outputs reach 453 with random statistics;
ResNet-18 5.6e-6 on outputs up to 7.2, MobileNetV2 2.1e-7 on outputs up to 0.57)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (the optional extra "
                                            "'bench'); CI has none")
st_torch = pytest.importorskip("safetensors.torch", reason="safetensors' PyTorch API")
try:
    import torchvision
except (ImportError, RuntimeError) as e:  # RuntimeError: a torchvision built for another torch
    pytest.skip(f"torchvision does not import here ({type(e).__name__}: {e})",
                allow_module_level=True)

import autodiff as ad  # noqa: E402
import nn  # noqa: E402
from nn.vision import models  # noqa: E402

TV = torchvision.models


def cifar_resnet18(num_classes=10):
    """The usual CIFAR change to torchvision's resnet18: conv1 3x3 stride 1, no max pool."""
    model = TV.resnet18(num_classes=num_classes)
    model.conv1 = torch.nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
    torch.nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = torch.nn.Identity()
    return model


# name: (ours, torchvision's, input shape)
CASES = {
    "resnet18": (models.resnet18, TV.resnet18, (2, 3, 64, 64)),
    "resnet18-cifar": (lambda: models.resnet18(num_classes=10, small_input=True),
                       cifar_resnet18, (2, 3, 32, 32)),
    "resnet34": (models.resnet34, TV.resnet34, (2, 3, 64, 64)),
    "resnet50": (models.resnet50, TV.resnet50, (2, 3, 64, 64)),
    "mobilenet_v2": (models.mobilenet_v2, TV.mobilenet_v2, (2, 3, 64, 64)),
    "mobilenet_v2-0.5-gray": (lambda: models.mobilenet_v2(num_classes=10, width_mult=0.5,
                                                          in_channels=1),
                              lambda: gray(TV.mobilenet_v2(num_classes=10, width_mult=0.5)),
                              (2, 1, 32, 32)),
}
SLOW = {"resnet34", "resnet50"}  # 6-15 s each on a busy machine; the others 1.5-7 s
PARAMS = [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in CASES]


def gray(model):
    model.features[0][0] = torch.nn.Conv2d(1, model.features[0][0].out_channels, 3, stride=2,
                                           padding=1, bias=False)
    return model


def randomize_batch_norms(model, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.2)
    return model


def outputs(ours, theirs, shape):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ours.eval()
    theirs.eval()
    with ad.no_grad():
        a = ours(ad.tensor(x)).numpy()
    with torch.no_grad():
        b = theirs(torch.from_numpy(x)).numpy()
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape
    return a, b


def assert_close(a, b):
    scale = max(1.0, float(np.abs(b).max()))
    assert float(np.abs(a - b).max()) <= 1e-4 * scale


@pytest.mark.parametrize("name", CASES)
def test_names_order_and_shapes_are_torchvisions(name):
    make_ours, make_theirs, _ = CASES[name]
    ours = [(k, v.shape) for k, v in make_ours().state_dict().items()]
    theirs = [(k, tuple(v.shape)) for k, v in make_theirs().state_dict().items()
              if not k.endswith("num_batches_tracked")]
    assert ours == theirs


@pytest.mark.parametrize("name", PARAMS)
def test_torchvision_weights_load_here(name, tmp_path):
    make_ours, make_theirs, shape = CASES[name]
    torch.manual_seed(0)
    theirs = randomize_batch_norms(make_theirs())
    st_torch.save_file(theirs.state_dict(), tmp_path / "tv.safetensors")
    ours = make_ours()
    before, b = outputs(ours, theirs, shape)
    assert ours.load_state_dict(nn.load(tmp_path / "tv.safetensors")) == []
    a, b = outputs(ours, theirs, shape)
    assert float(np.abs(before - b).max()) > 1e-2 * max(1.0, float(np.abs(b).max()))
    assert_close(a, b)


@pytest.mark.parametrize("name", ["resnet18-cifar", "mobilenet_v2-0.5-gray"])
def test_our_weights_load_in_torchvision(name, tmp_path):
    make_ours, make_theirs, shape = CASES[name]
    ad.manual_seed(2)
    ours = make_ours()
    rng = np.random.default_rng(3)
    for k, b in ours.named_buffers():
        b.data[...] = (rng.uniform(0.5, 1.5, b.shape) if k.endswith("var")
                       else 0.2 * rng.standard_normal(b.shape))
    nn.save(ours.state_dict(), tmp_path / "ours.safetensors")
    theirs = make_theirs()
    result = theirs.load_state_dict(st_torch.load_file(tmp_path / "ours.safetensors"))
    assert not result.missing_keys and not result.unexpected_keys
    assert_close(*outputs(ours, theirs, shape))


def test_training_mode_matches_too():
    """Batch statistics in training mode (dropout off), in float64: the same outputs to 1e-10
    (in float32 the batch statistics of 4 images at 1x1 differ by float32 rounding, 1.3e-4)."""
    torch.manual_seed(0)
    theirs = TV.mobilenet_v2(num_classes=10, width_mult=0.5, dropout=0.0).double()
    ours = models.mobilenet_v2(num_classes=10, width_mult=0.5, dropout=0.0).to(np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((4, 3, 32, 32))
    a = ours.train()(ad.tensor(x)).detach().numpy()
    b = theirs.train()(torch.from_numpy(x)).detach().numpy()
    assert a.dtype == np.float64
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
