"""State dicts move between this library and PyTorch through .safetensors files, both ways:
the same names, shapes and outputs for the MLP, LeNet-5, ResNet-8, ResNet-20, MobileNet and the
U-Net example; BatchNorm's num_batches_tracked accepted and ignored; a real mismatch named."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed (the optional extra "
                                            "'bench'); CI has none")
st_torch = pytest.importorskip("safetensors.torch", reason="safetensors' PyTorch API")

import autodiff as ad  # noqa: E402
import nn  # noqa: E402
from nn.vision import models  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
try:
    import torch_twins as twins
finally:
    sys.path.pop(0)

ROOT = Path(__file__).resolve().parents[3]


def unet_example():
    spec = importlib.util.spec_from_file_location("example_unet_shapes",
                                                  ROOT / "examples" / "unet_shapes.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# name: (our model, its PyTorch twin, input shape)
CASES = {
    "mlp": (lambda: models.MLP(in_features=64), lambda: twins.MLP(in_features=64), (5, 1, 8, 8)),
    "lenet5": (models.LeNet5, twins.LeNet5, (5, 1, 28, 28)),
    "lenet5-8x8": (models.LeNet5, twins.LeNet5, (5, 1, 8, 8)),  # resized to 28x28 first
    "resnet8": (models.resnet8, lambda: twins.ResNet(blocks=1), (4, 1, 28, 28)),
    "resnet20": (models.resnet20, lambda: twins.ResNet(blocks=3), (4, 1, 28, 28)),
    "mobilenet": (models.MobileNet, twins.MobileNet, (4, 1, 28, 28)),
    "unet": (lambda: unet_example().TinyUNet(8), lambda: twins.TinyUNet(8), (3, 1, 24, 24)),
}
RTOL, ATOL = 1e-5, 1e-6  # float32 throughout


def outputs(ours, theirs, shape, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    ours.eval()
    theirs.eval()
    with ad.no_grad():
        a = ours(ad.tensor(x)).data
    with torch.no_grad():
        b = theirs(torch.from_numpy(x)).numpy()
    assert a.dtype == b.dtype == np.float32
    return a, b


def randomize_our_batch_norms(model, seed=1):
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.data[...] = rng.standard_normal(n) * 0.5
            m.running_var.data[...] = rng.random(n) + 0.5
            m.weight.data[...] = rng.random(n) + 0.5
            m.bias.data[...] = rng.standard_normal(n) * 0.2


@pytest.mark.parametrize("name", CASES)
def test_pytorch_weights_load_here(name, tmp_path):
    make_ours, make_theirs, shape = CASES[name]
    torch.manual_seed(0)
    theirs = make_theirs()
    twins.randomize_batch_norms(theirs, torch.Generator().manual_seed(1))
    path = tmp_path / "torch.safetensors"
    st_torch.save_file(theirs.state_dict(), path)
    ad.manual_seed(5)
    ours = make_ours()
    before, _ = outputs(ours, theirs, shape)
    assert ours.load_state_dict(nn.load(path)) == []
    a, b = outputs(ours, theirs, shape)
    assert not np.allclose(before, b, rtol=RTOL, atol=ATOL)  # the load is what made them equal
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", CASES)
def test_our_weights_load_in_pytorch(name, tmp_path):
    make_ours, make_theirs, shape = CASES[name]
    ad.manual_seed(2)
    ours = make_ours()
    randomize_our_batch_norms(ours)
    path = tmp_path / "ours.safetensors"
    nn.save(ours.state_dict(), path)
    torch.manual_seed(3)
    theirs = make_theirs()
    result = theirs.load_state_dict(st_torch.load_file(path))  # strict
    assert not result.missing_keys and not result.unexpected_keys
    a, b = outputs(ours, theirs, shape)
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", CASES)
def test_the_names_and_shapes_are_pytorchs(name):
    make_ours, make_theirs, _ = CASES[name]
    ours = {k: v.shape for k, v in make_ours().state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in make_theirs().state_dict().items()
              if not k.endswith("num_batches_tracked")}
    assert ours == theirs


def test_a_real_mismatch_in_a_pytorch_file_is_named(tmp_path):
    torch.manual_seed(0)
    state = twins.ResNet(blocks=1).state_dict()
    model = models.resnet8()
    dropped = {k: v for k, v in state.items() if k != "stages.1.bn2.running_var"}
    st_torch.save_file(dropped, tmp_path / "missing.safetensors")
    with pytest.raises(KeyError, match=r"missing keys \['stages.1.bn2.running_var'\]"):
        model.load_state_dict(nn.load(tmp_path / "missing.safetensors"))
    st_torch.save_file({**state, "stages.1.extra": torch.ones(2)}, tmp_path / "extra.safetensors")
    with pytest.raises(KeyError, match=r"unexpected keys \['stages.1.extra'\]"):
        model.load_state_dict(nn.load(tmp_path / "extra.safetensors"))
    wider = twins.ResNet(blocks=1, width=8).state_dict()
    st_torch.save_file(wider, tmp_path / "wider.safetensors")
    with pytest.raises(ValueError, match=r"'stem.0.weight' has shape \(8, 1, 3, 3\) in the "
                                         r"state but \(16, 1, 3, 3\)"):
        model.load_state_dict(nn.load(tmp_path / "wider.safetensors"))
    bf16 = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in state.items()}
    st_torch.save_file(bf16, tmp_path / "bf16.safetensors")
    with pytest.raises(ValueError, match=r"bf16.safetensors: tensor '.*' is BF16, which "
                                         r"nn.load does not read \(it reads BOOL, U8, .*F64\)"):
        nn.load(tmp_path / "bf16.safetensors")
