import numpy as np
import pytest

import autodiff as ad
from nn.vision import models


def test_output_shapes_and_parameter_counts():
    lenet = models.LeNet5()
    assert lenet(ad.zeros((2, 1, 28, 28))).shape == (2, 10)
    assert sum(p.size for p in lenet.parameters()) == 61_706  # LeNet-5's classic count
    assert lenet(ad.zeros((2, 1, 8, 8))).shape == (2, 10)  # small images are resized
    r8 = models.resnet8(in_channels=3)
    assert r8(ad.zeros((2, 3, 16, 16))).shape == (2, 10)
    assert len(list(r8.stages)) == 3 and len(list(models.resnet20().stages)) == 9
    blocks = list(r8.stages)
    assert isinstance(blocks[0].shortcut, type(models.nn.Identity()))  # identity shortcut
    assert not isinstance(blocks[1].shortcut, type(models.nn.Identity()))  # projection
    mobile = models.MobileNet()
    assert mobile(ad.zeros((1, 1, 28, 28))).shape == (1, 10)
    dw = mobile.blocks[0].depthwise[0]
    assert dw.groups == dw.in_channels  # depthwise
    assert models.MLP(64)(ad.zeros((3, 1, 8, 8))).shape == (3, 10)


def test_models_learn_a_batch():
    import nn
    import nn.functional as F

    ad.manual_seed(0)
    x = ad.randn(8, 1, 12, 12)
    y = np.arange(8) % 2
    for model in [models.resnet8(num_classes=2, width=4), models.MobileNet(num_classes=2,
                                                                           width=4, depth=2)]:
        opt = nn.optim.Adam(model.parameters(), lr=1e-2)
        first = None
        for _ in range(15):
            loss = F.cross_entropy(model(x), y)
            first = first if first is not None else loss.item()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert loss.item() < first


def test_unknown_model():
    with pytest.raises(ValueError, match=r"unknown model .vgg.*lenet5"):
        models.get_model("vgg")
