"""A printed model reads as PyTorch's: the same layout (extra_repr lines, then one
`(name): child` line per child, indented), and each layer's arguments as PyTorch prints them,
string for string where the layers' arguments agree."""

import pytest

import nn


def _torch():
    return pytest.importorskip("torch", reason="PyTorch comparison (not installed in CI)")


def mnist_net(lib):
    """PyTorch's MNIST example's layers, nested as a Sequential."""
    return lib.Sequential(
        lib.Conv2d(1, 32, 3, 1), lib.ReLU(), lib.Conv2d(32, 64, 3, 1), lib.ReLU(),
        lib.MaxPool2d(2), lib.Dropout(0.25), lib.Flatten(),
        lib.Sequential(lib.Linear(9216, 128), lib.ReLU(), lib.Dropout(0.5),
                       lib.Linear(128, 10)))


LAYERS = [
    lambda n: n.Linear(3, 2), lambda n: n.Linear(3, 2, bias=False),
    lambda n: n.Conv2d(1, 32, 3, 1), lambda n: n.Conv2d(3, 8, (3, 5), stride=2, padding=1),
    lambda n: n.Conv2d(4, 8, 3, padding="same", dilation=2, groups=2, bias=False),
    lambda n: n.Conv2d(4, 8, 3, padding="valid"),
    lambda n: n.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
    lambda n: n.BatchNorm2d(64), lambda n: n.BatchNorm1d(3, eps=1e-3, momentum=0.2),
    lambda n: n.BatchNorm2d(8, affine=False), lambda n: n.BatchNorm1d(4, bias=False),
    lambda n: n.BatchNorm2d(4, track_running_stats=False),
    lambda n: n.LayerNorm(10), lambda n: n.LayerNorm([2, 3], elementwise_affine=False),
    lambda n: n.LayerNorm(4, bias=False),
    lambda n: n.Dropout(), lambda n: n.Dropout(0.25), lambda n: n.Dropout2d(0.1),
    lambda n: n.ReLU(), lambda n: n.Tanh(), lambda n: n.Sigmoid(), lambda n: n.GELU(),
    lambda n: n.LeakyReLU(0.2), lambda n: n.ELU(), lambda n: n.SiLU(), lambda n: n.Mish(),
    lambda n: n.Hardswish(), lambda n: n.ReLU6(), lambda n: n.SELU(), lambda n: n.LogSigmoid(),
    lambda n: n.PReLU(), lambda n: n.PReLU(3),
    lambda n: n.AvgPool2d(2), lambda n: n.AvgPool2d(3, stride=2, padding=1),
    lambda n: n.AdaptiveAvgPool2d(1), lambda n: n.AdaptiveAvgPool2d((2, 3)),
    lambda n: n.Upsample(scale_factor=2), lambda n: n.Upsample(size=(4, 6), mode="bilinear"),
    lambda n: n.Flatten(), lambda n: n.Flatten(0, 2), lambda n: n.Unflatten(1, (2, 5)),
    lambda n: n.Identity(), lambda n: n.Embedding(10, 3, padding_idx=1),
    lambda n: n.CrossEntropyLoss(), lambda n: n.MSELoss(), lambda n: n.NLLLoss(),
    lambda n: n.BCEWithLogitsLoss(), lambda n: n.L1Loss(), lambda n: n.HuberLoss(),
    lambda n: n.SmoothL1Loss(), lambda n: n.KLDivLoss(), lambda n: n.MarginRankingLoss(),
    lambda n: n.CosineEmbeddingLoss(),
    lambda n: n.Conv1d(4, 8, 3), lambda n: n.Conv1d(4, 8, 3, 2, 1, 2, 2, False, "reflect"),
    lambda n: n.Conv1d(4, 8, 5, padding="same", padding_mode="circular"),
    lambda n: n.Conv2d(4, 8, 3, padding=1, padding_mode="replicate"),
    lambda n: n.MaxPool1d(3), lambda n: n.MaxPool1d(3, 2, 1, 2, ceil_mode=True),
    lambda n: n.MaxPool2d((3, 2), dilation=(1, 2), ceil_mode=True),
    lambda n: n.AvgPool1d(3), lambda n: n.AvgPool1d(3, 2, 1, True, False),
    lambda n: n.AvgPool2d(3, ceil_mode=True, divisor_override=2),
    lambda n: n.AdaptiveAvgPool1d(2), lambda n: n.AdaptiveMaxPool1d(3),
    lambda n: n.AdaptiveMaxPool2d((2, None)), lambda n: n.AdaptiveMaxPool2d(1),
    lambda n: n.GroupNorm(2, 4), lambda n: n.GroupNorm(1, 3, eps=1e-3, affine=False),
    lambda n: n.InstanceNorm1d(3), lambda n: n.InstanceNorm2d(4, affine=True),
    lambda n: n.InstanceNorm2d(4, momentum=0.2, track_running_stats=True, bias=False),
]


@pytest.mark.parametrize("make", LAYERS, ids=lambda f: repr(f(nn)))
def test_layers_print_as_pytorchs(make):
    torch = _torch()
    assert repr(make(nn)) == repr(make(torch.nn))


def test_max_pool_prints_as_pytorchs():
    torch = _torch()
    for args in [(2,), ((2, 2),), (3, 2, 1), (3, 2, 1, 2, False, True)]:
        assert repr(nn.MaxPool2d(*args)) == repr(torch.nn.MaxPool2d(*args))


def test_a_nested_model_prints_as_pytorchs():
    torch = _torch()
    assert repr(mnist_net(nn)) == repr(mnist_net(torch.nn))


def test_layout_without_pytorch():
    assert repr(mnist_net(nn)) == """Sequential(
  (0): Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))
  (1): ReLU()
  (2): Conv2d(32, 64, kernel_size=(3, 3), stride=(1, 1))
  (3): ReLU()
  (4): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  (5): Dropout(p=0.25, inplace=False)
  (6): Flatten(start_dim=1, end_dim=-1)
  (7): Sequential(
    (0): Linear(in_features=9216, out_features=128, bias=True)
    (1): ReLU()
    (2): Dropout(p=0.5, inplace=False)
    (3): Linear(in_features=128, out_features=10, bias=True)
  )
)"""


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(2, 2)
        self.skip = None

    def extra_repr(self):
        return "gain=2\nbias=True"


def test_extra_repr_lines_come_before_the_children_and_none_children_print():
    text = repr(Gate())
    assert text == """Gate(
  gain=2
  bias=True
  (proj): Linear(in_features=2, out_features=2, bias=True)
)"""
    gate = Gate()
    del gate.skip  # a plain attribute: add_module refuses its name, as PyTorch's
    gate.add_module("skip", None)
    assert repr(gate).endswith("  (skip): None\n)")


def test_custom_modules_print_as_pytorchs():
    torch = _torch()

    def build(lib):
        class Gate(lib.Module):
            def __init__(self):
                super().__init__()
                self.proj = lib.Linear(2, 2)
                self.add_module("skip", None)

            def extra_repr(self):
                return "gain=2\nbias=True"

        class Leaf(lib.Module):
            def extra_repr(self):
                return "k=1"

        return lib.Sequential(Gate(), Leaf(), lib.Sequential())

    assert repr(build(nn)) == repr(build(torch.nn))
