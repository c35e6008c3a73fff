"""The model zoo without PyTorch: torchvision's published parameter counts, its parameter
names (a hand-written sample), its initialization, the CIFAR stem, the options, gradients
through the blocks (gradcheck) and every refused argument. Outputs against torchvision itself:
test_zoo_torchvision.py."""

import numpy as np
import pytest

import autodiff as ad
import nn
from autodiff.testing import gradcheck
from nn.vision import build, mobilenet, models, resnet
from nn.vision import train as cmd


@pytest.mark.parametrize("make, count", [
    (models.resnet18, 11_689_512), (models.resnet34, 21_797_672),
    (models.resnet50, 25_557_032), (models.mobilenet_v2, 3_504_872)])
def test_parameter_counts_are_torchvisions(make, count):
    assert sum(p.size for p in make().parameters()) == count


def test_cifar_resnet18_count_and_shapes():
    model = models.resnet18(num_classes=10, small_input=True)
    assert sum(p.size for p in model.parameters()) == 11_173_962
    assert model.conv1.weight.shape == (64, 3, 3, 3) and isinstance(model.maxpool, nn.Identity)
    small = models.resnet18(num_classes=10, small_input=True, width=4)
    feats = small.maxpool(small.relu(small.bn1(small.conv1(ad.zeros((1, 3, 32, 32))))))
    assert feats.shape == (1, 4, 32, 32)  # no reduction in the stem
    assert small.layer4(small.layer3(small.layer2(small.layer1(feats)))).shape == (1, 32, 4, 4)


def test_names_are_torchvisions():  # the names do not depend on the width
    names = list(models.resnet18(width=4).state_dict())
    assert names[:6] == ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                         "bn1.running_var", "layer1.0.conv1.weight"]
    assert "layer2.0.downsample.0.weight" in names and "layer2.0.downsample.1.running_var" in names
    assert "layer1.0.downsample.0.weight" not in names and names[-2:] == ["fc.weight", "fc.bias"]
    assert "layer1.0.conv3.weight" in models.resnet50(width=4).state_dict()
    names = list(models.mobilenet_v2(width_mult=0.25).state_dict())
    assert names[:2] == ["features.0.0.weight", "features.0.1.weight"]
    assert "features.1.conv.0.0.weight" in names and "features.1.conv.1.weight" in names
    assert "features.2.conv.3.running_var" in names and "features.18.0.weight" in names
    assert names[-2:] == ["classifier.1.weight", "classifier.1.bias"]


def test_in_channels_and_num_classes():
    x = ad.zeros((2, 1, 28, 28))
    assert models.resnet18(num_classes=7, in_channels=1, small_input=True, width=4)(x).shape \
        == (2, 7)
    assert models.resnet34(num_classes=3, in_channels=1, width=2)(x).shape == (2, 3)
    assert models.mobilenet_v2(num_classes=5, in_channels=1, width_mult=0.25)(x).shape == (2, 5)


def test_resnet_initialization_is_torchvisions():
    ad.manual_seed(0)
    model = models.resnet18(width=16)
    w = model.layer3[0].conv2.weight.data  # 64 -> 64 channels, 3x3
    fan_out = 64 * 3 * 3
    assert abs(w.std() / np.sqrt(2 / fan_out) - 1) < 0.05 and abs(w.mean()) < 0.01
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert (m.weight.data == 1).all() and (m.bias.data == 0).all()
    assert (model.layer1[0].bn2.weight.data == 1).all()
    zeroed = models.resnet18(width=4, zero_init_residual=True)
    assert all((b.bn2.weight.data == 0).all() for b in zeroed.layer2)
    assert (zeroed.layer2[0].bn1.weight.data == 1).all()
    assert (models.resnet50(width=4, zero_init_residual=True).layer3[1].bn3.weight.data
            == 0).all()


def test_zero_init_residual_makes_blocks_start_as_identity_plus_relu():
    ad.manual_seed(1)
    block = models.resnet18(width=4, zero_init_residual=True).layer1[0].eval()
    x = ad.randn(1, 4, 5, 5)
    with ad.no_grad():
        np.testing.assert_array_equal(block(x).numpy(), np.maximum(x.numpy(), 0))


def test_mobilenet_initialization_is_torchvisions():
    ad.manual_seed(0)
    model = models.mobilenet_v2()
    fc = model.classifier[1]
    assert abs(fc.weight.data.std() / 0.01 - 1) < 0.02 and (fc.bias.data == 0).all()
    w = model.features[18][0].weight.data  # 1x1, 320 -> 1280: fan_out 1280
    assert abs(w.std() / np.sqrt(2 / 1280) - 1) < 0.02
    assert model.classifier[0].p == 0.2


def test_mobilenet_blocks_follow_the_paper():
    model = models.mobilenet_v2()
    blocks = list(model.features)[1:-1]
    assert len(blocks) == 17
    assert [b.use_res_connect for b in blocks].count(True) == 10
    assert len(blocks[0].conv) == 3 and len(blocks[1].conv) == 4  # expansion 1: no 1x1 first
    assert blocks[1].conv[0][0].weight.shape == (96, 16, 1, 1)
    assert blocks[1].conv[1][0].groups == 96 and blocks[1].conv[1][0].stride == 2
    assert mobilenet.make_divisible(1280 * 0.5) == 640
    assert models.mobilenet_v2(width_mult=0.5).last_channel == 1280


def test_blocks_gradcheck():
    ad.manual_seed(0)
    for block in (resnet.ImageNetBasicBlock(2, 3, stride=2), resnet.Bottleneck(2, 1, stride=2),
                  mobilenet.InvertedResidual(2, 2, stride=1, expand_ratio=2)):
        block.to(np.float64).eval()
        x = ad.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 4)))
        assert gradcheck(lambda t, b=block: b(t), x)


def test_a_training_step_reaches_every_parameter():
    ad.manual_seed(0)
    for model in (models.resnet18(num_classes=3, width=2, small_input=True, dropout=0.1),
                  models.mobilenet_v2(num_classes=3, width_mult=0.1)):
        loss = nn.functional.cross_entropy(model(ad.randn(2, 3, 16, 16)), ad.tensor([0, 2]))
        loss.backward()
        assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all()
                   for p in model.parameters())


R, M, INT, POS = "ImageNetResNet: ", "MobileNetV2: ", "must be an integer >= 1, got", \
    "must be a finite number > 0, got"


@pytest.mark.parametrize("make, kw, message", [
    (models.resnet18, {"num_classes": 0}, f"{R}num_classes {INT} 0"),
    (models.resnet34, {"in_channels": 2.5}, f"{R}in_channels {INT} 2.5"),
    (models.resnet18, {"width": 0}, f"{R}width {INT} 0"),
    (models.mobilenet_v2, {"num_classes": -1}, f"{M}num_classes {INT} -1"),
    (models.mobilenet_v2, {"in_channels": True}, f"{M}in_channels {INT} True"),
    (models.mobilenet_v2, {"width_mult": 0.0}, f"{M}width_mult {POS} 0.0"),
    (models.mobilenet_v2, {"width_mult": float("nan")}, f"{M}width_mult {POS} nan"),
    (lambda: resnet.ImageNetResNet(resnet.Bottleneck, [3, 4, 6]), {},
     rf"{R}layers must hold 4 block counts, got \[3, 4, 6\]"),
    (lambda: resnet.ImageNetResNet(resnet.Bottleneck, [3, 0, 6, 3]), {},
     rf"{R}layers\[i\] {INT} 0"),
    (lambda: mobilenet.InvertedResidual(4, 4, stride=3, expand_ratio=6), {},
     "InvertedResidual: stride must be 1 or 2, got 3"),
])
def test_bad_arguments_are_named(make, kw, message):
    with pytest.raises(ValueError, match=message):
        make(**kw)


@pytest.mark.slow  # 10 s on a busy machine, most of it starting up and drawing the plots
def test_the_training_command_trains_the_cifar_resnet18(tmp_path):
    out = tmp_path / "run"
    metrics = cmd.main(["train", "--model", "resnet18", "--data", "digits", "--epochs", "1",
                        "--limit", "60", "--width", "4", "--no-progress", "--out", str(out)])
    state = nn.load(out / "best.npz")["model"]
    assert state["conv1.weight"].shape == (4, 1, 3, 3)  # the CIFAR stem, gray images, width 4
    assert state["fc.weight"].shape == (10, 32) and "layer4.1.bn2.running_var" in state
    ev = cmd.main(["evaluate", str(out / "best.npz"), "--data", "digits", "--limit", "60"])
    assert ev["test_accuracy"] == pytest.approx(metrics["test_accuracy"])


def test_the_command_refuses_a_depth_for_resnet18():
    data = build.load_data("digits", seed=0, limit=10)
    with pytest.raises(ValueError, match="resnet18 has a fixed depth; --depth applies to "
                                         "resnet8, resnet20, mobilenet, mlp"):
        build.make_model("resnet18", data, depth=2)
    assert isinstance(build.make_model("resnet18", data, width=2), resnet.ImageNetResNet)
