"""nn.onnx.export, checked by ONNX Runtime: every model of nn.vision.models and the U-Net
example on one exported file at batch sizes 1 and 7, every row of the op table on a small
layer, and every refusal (an op without a mapping, a value computed outside the graph, a
graph that changes with the input, ...) with the op and the layer it names.

Tolerance: rtol=1e-5, atol=1e-6 (float32). ONNX Runtime computes the same float32 products in
another order (its own convolution and GEMM kernels), so outputs agree to a few float32 ulps:
the largest difference measured was 1.5e-7 on outputs up to 0.5 (under 1e-6 of their scale).
The absolute part is for outputs near zero, sums of larger terms that cancel, whose difference
can exceed 1e-5 of themselves (2.5e-5 measured on the U-Net)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn.vision import models

onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
ort = pytest.importorskip("onnxruntime",
                          reason="the optional extra 'export' (onnxruntime) is not installed")

RTOL, ATOL = 1e-5, 1e-6
ROOT = Path(__file__).resolve().parents[2]


def engine(model, x):
    model.eval()
    with ad.no_grad():
        out = model(ad.tensor(x))
    return [o.numpy() for o in out] if isinstance(out, tuple) else [out.numpy()]


def runtime(path, x):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})


def roundtrip(model, shape, tmp_path, batches=(1, 3), seed=0, **options):
    """Export `model` (an example batch of 2), run the file at each batch size, compare with
    the engine; returns the path and the largest absolute difference."""
    rng = np.random.default_rng(seed)
    path = nn.onnx.export(model, rng.standard_normal((2, *shape)).astype(np.float32),
                          tmp_path / "model.onnx", **options)
    worst = 0.0
    for n in batches:
        x = rng.standard_normal((n, *shape)).astype(np.float32)
        for got, want in zip(runtime(path, x), engine(model, x), strict=True):
            np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)
            worst = max(worst, float(np.abs(got - want).max()))
    return path, worst


def with_statistics(model, seed=0):
    """Running statistics away from (0, 1), so that a batch norm exported wrong shows."""
    rng = np.random.default_rng(seed)
    for name, b in model.named_buffers():
        b.data[...] = (rng.uniform(0.5, 2.0, b.shape) if name.endswith("running_var")
                       else rng.normal(0.0, 0.3, b.shape))
    return model


def unet():
    spec = importlib.util.spec_from_file_location("example_unet_shapes",
                                                  ROOT / "examples" / "unet_shapes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.TinyUNet()


def wide_linear():
    """A Linear whose outputs spread well past [-6, 6] on standard normal inputs."""
    layer = nn.Linear(5, 5)
    with ad.no_grad():
        layer.weight.data *= 30
    return layer


# -- the models ------------------------------------------------------------------------------

MODELS = {
    "mlp": (lambda: models.MLP(), (1, 8, 8)),
    "lenet5": (lambda: models.LeNet5(), (1, 28, 28)),
    "lenet5-digits": (lambda: models.LeNet5(), (1, 8, 8)),  # resized to 28x28 inside
    "resnet8": (lambda: models.resnet8(), (1, 28, 28)),
    "resnet20": (lambda: models.resnet20(), (1, 28, 28)),
    "mobilenet": (lambda: models.MobileNet(), (1, 28, 28)),
    "unet": (unet, (1, 16, 16)),
    "vit_small_mnist": (lambda: vit_head(models.get_model("vit_small_mnist")), (1, 28, 28)),
    "resnet18": (lambda: models.MODELS["resnet18"](width=8), (3, 32, 32)),  # the CIFAR stem
    "resnet18-imagenet": (lambda: models.resnet18(num_classes=10, width=8), (3, 64, 64)),
    "mobilenet_v2": (lambda: models.mobilenet_v2(num_classes=10, width_mult=0.25), (3, 32, 32)),
}


def vit_head(model):
    """A ViT with a non-zero head (torchvision's starts at zero: every output would be 0)."""
    nn.init.normal_(model.heads.head.weight, std=0.05)
    return model


def test_every_vision_model_is_covered():
    assert set(models.MODELS) <= set(MODELS)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "resnet20"
                                  else n for n in MODELS])
def test_model_matches_onnx_runtime_at_batch_1_and_7(name, tmp_path):
    ad.manual_seed(0)
    make, shape = MODELS[name]
    model = with_statistics(make())
    path, _ = roundtrip(model, shape, tmp_path, batches=(1, 7))
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert {i.name for i in proto.graph.initializer} >= set(model.state_dict())


def test_lenet5_graph_names_layers_and_parameters(tmp_path):
    ad.manual_seed(0)
    model = models.LeNet5()
    proto = onnx.load(str(nn.onnx.export(model, ad.randn(2, 1, 28, 28), tmp_path / "l.onnx")))
    assert [n.name for n in proto.graph.node] == [
        "features.0/Conv", "features.1/Relu", "features.2/MaxPool", "features.3/Conv",
        "features.4/Relu", "features.5/MaxPool", "classifier.0/Flatten", "classifier.1/Gemm",
        "classifier.2/Relu", "classifier.4/Gemm", "classifier.5/Relu", "classifier.7/Gemm"]
    assert [i.name for i in proto.graph.initializer] == list(model.state_dict())
    conv = proto.graph.node[0]
    assert list(conv.input) == ["input", "features.0.weight", "features.0.bias"]
    assert {a.name: list(a.ints) for a in conv.attribute}["pads"] == [2, 2, 2, 2]


def test_batch_norm_is_one_node_with_the_running_statistics(tmp_path):
    model = with_statistics(nn.Sequential(nn.Conv2d(2, 3, 3, bias=False), nn.BatchNorm2d(3)))
    path, _ = roundtrip(model, (2, 5, 5), tmp_path)
    (bn,) = [n for n in onnx.load(str(path)).graph.node if n.op_type == "BatchNormalization"]
    assert list(bn.input[1:]) == ["1.weight", "1.bias", "1.running_mean", "1.running_var"]


def test_modes_are_restored(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5), nn.BatchNorm1d(3))
    model.train()
    model[2].eval()
    nn.onnx.export(model, ad.randn(4, 3), tmp_path / "m.onnx")
    assert [m.training for m in model.modules()] == [True, True, True, False]


def test_dropout_is_not_exported_in_evaluation(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 1), nn.Dropout2d(0.5), nn.Flatten(), nn.Dropout(0.5))
    model.train()
    path, _ = roundtrip(model, (1, 3, 3), tmp_path)
    assert [n.op_type for n in onnx.load(str(path)).graph.node] == ["Conv", "Flatten"]


def test_tuple_outputs_and_a_value_returned_twice(tmp_path):
    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Linear(3, 4)

        def forward(self, x):
            h = ad.relu(self.body(x))
            return h, h * 2.0, h

    path, _ = roundtrip(TwoHeads(), (3,), tmp_path)
    assert [o.name for o in onnx.load(str(path)).graph.output] == [
        "output", "output_1", "output_2"]


def test_fixed_batch(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2))
    path = nn.onnx.export(model, ad.randn(2, 3), tmp_path / "m.onnx", dynamic_batch=False)
    dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 3]
    x = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(runtime(path, x)[0], engine(model, x)[0], rtol=RTOL, atol=ATOL)
    with pytest.raises(Exception, match=r"[Ii]nvalid|dimension"):
        runtime(path, np.ones((3, 3), np.float32))


def test_fixed_batch_allows_shapes_that_mix_the_batch_axis(tmp_path):
    class Whole(nn.Module):
        def forward(self, x):
            return (x * 2.0).reshape(-1)

    path = nn.onnx.export(Whole(), ad.randn(2, 3), tmp_path / "m.onnx", dynamic_batch=False)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(runtime(path, x)[0], x.reshape(-1) * 2)


@pytest.mark.parametrize("opset", [13, 17, 18, "newest"])
def test_opsets(opset, tmp_path):
    opset = onnx.defs.onnx_opset_version() if opset == "newest" else opset

    class Reductions(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Sequential(nn.Linear(4, 4), nn.Softmax(axis=1))

        def forward(self, x):
            return self.head(x) + x.max(axis=1, keepdims=True) - x.min(axis=1, keepdims=True)

    path, _ = roundtrip(Reductions(), (4,), tmp_path, opset=opset)
    assert onnx.load(str(path)).opset_import[0].version == opset


# -- the op table: one row each --------------------------------------------------------------


class Fn(nn.Module):
    """A layer computing fn(x, self): the ops of a case, each inside layer 'body'."""

    def __init__(self, fn, **children):
        super().__init__()
        self.fn = fn
        for k, m in children.items():
            setattr(self, k, m)

    def forward(self, x):
        return self.fn(x, self)


def fn(f, **children):
    return lambda: nn.Sequential(Fn(f, **children))


def weight(*shape):
    return nn.Parameter(np.random.default_rng(1).standard_normal(shape).astype(np.float32))


CASES = {
    # elementwise (constants as Python numbers, arrays and parameters)
    "add-sub-mul-div": (fn(lambda x, m: (x * 2.0 + 1.0 - x / 3.0) * m.w, w=weight(4)), (4,)),
    "neg-pow-maximum-minimum": (fn(lambda x, m: ad.minimum(ad.maximum(-x, x ** 2), 1.5)),
                                (4,)),
    "exp-log-sqrt-abs": (fn(lambda x, m: ad.log(ad.abs(x) + 1.0) + ad.sqrt(ad.exp(x))), (4,)),
    "tanh-sigmoid-relu-sin-cos": (fn(lambda x, m: ad.tanh(x) + ad.sigmoid(x) + ad.relu(x)
                                     + ad.sin(x) * ad.cos(x)), (4,)),
    "clip": (fn(lambda x, m: ad.clip(x, -0.5, 0.7) + x.clip(max=0.2)), (4,)),
    "softplus-beta": (fn(lambda x, m: F.softplus(x) + F.softplus(x, beta=2.0)), (4,)),
    "gelu-erf": (lambda: nn.Sequential(nn.GELU(), nn.GELU("tanh")), (4,)),
    "where-constant-mask": (fn(lambda x, m: ad.where(np.array([True, False, True, False]),
                                                     x, x * 3.0)), (4,)),
    "astype": (fn(lambda x, m: x.astype(np.float64).exp().astype(np.float32)), (4,)),
    # matrices, convolutions, pooling
    "linear-3d-no-bias": (lambda: nn.Linear(4, 3, bias=False), (5, 4)),
    "linear-3d": (lambda: nn.Linear(4, 3), (5, 4)),
    "matmul": (fn(lambda x, m: x @ m.w, w=weight(4, 2)), (3, 4)),
    "conv-stride-dilation-groups": (
        lambda: nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (4, 9, 9)),
    "conv-same-even-kernel": (lambda: nn.Conv2d(2, 3, 4, padding="same"), (2, 7, 7)),
    "conv-functional": (fn(lambda x, m: F.conv2d(x, m.w, m.b, stride=(1, 2), padding=(1, 0)),
                           w=weight(3, 2, 3, 3), b=weight(3)), (2, 6, 6)),
    "conv-transpose": (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1,
                                                  output_padding=1, groups=2), (4, 5, 5)),
    "conv-transpose-dilated": (lambda: nn.ConvTranspose2d(2, 3, 2, dilation=3,
                                                          output_padding=2), (2, 4, 4)),
    "conv-transpose-functional": (
        fn(lambda x, m: F.conv_transpose2d(x, m.w, stride=2), w=weight(2, 3, 2, 2)), (2, 3, 3)),
    "conv-transpose-functional-bias": (
        fn(lambda x, m: F.conv_transpose2d(x, m.w, m.b, stride=2, output_padding=1),
           w=weight(2, 3, 2, 2), b=weight(3)), (2, 3, 3)),
    "max-pool": (lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 7, 7)),
    "avg-pool": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 7, 7)),
    "avg-pool-exclude-pad": (lambda: nn.AvgPool2d(2, padding=1, count_include_pad=False),
                             (2, 5, 5)),
    "avg-pool-functional": (fn(lambda x, m: F.avg_pool2d(x, 2)), (2, 4, 4)),
    "global-avg-pool": (lambda: nn.AdaptiveAvgPool2d(1), (3, 5, 4)),
    "adaptive-avg-pool-2x3": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (3, 5, 7)),
    "global-max-pool": (lambda: nn.AdaptiveMaxPool2d(1), (3, 5, 4)),
    "adaptive-max-pool-even-bins": (lambda: nn.AdaptiveMaxPool2d((2, None)), (3, 6, 4)),
    "batch-norm-1d": (lambda: with_statistics(nn.BatchNorm1d(4)), (4,)),
    "batch-norm-no-affine": (lambda: with_statistics(nn.BatchNorm2d(3, affine=False)),
                             (3, 2, 2)),
    "layer-norm": (lambda: nn.LayerNorm(4), (3, 4)),
    # shapes
    "flatten-start-2": (lambda: nn.Flatten(2), (3, 2, 2)),
    "reshape-batch-first": (fn(lambda x, m: x.reshape(x.shape[0], 2, -1)), (3, 4)),
    "transpose-swapaxes": (fn(lambda x, m: x.transpose(0, 2, 1) + ad.swapaxes(x, 1, 2)),
                           (3, 3)),
    "broadcast-to": (fn(lambda x, m: ad.broadcast_to(x, (x.shape[0], 2, 3))), (1, 3)),
    "concatenate": (fn(lambda x, m: ad.concatenate([x, x * 2.0], axis=-1)), (2, 3)),
    "pad": (fn(lambda x, m: ad.pad(x, ((0, 0), (1, 2), (0, 1)), constant_values=0.5)),
            (2, 3)),
    "getitem-slices": (fn(lambda x, m: x[:, 1:3, ::2] + x[:, :2, -1::-2]), (4, 5)),
    "getitem-int-none-ellipsis": (fn(lambda x, m: x[:, 0][:, None] * x[..., 1:2, :]), (3, 4)),
    "getitem-gather": (fn(lambda x, m: x[:, [2, 0, 2]]), (4,)),
    "sum-mean": (fn(lambda x, m: x.sum(axis=(1, 2)) + x.mean(axis=2).sum(1)
                    + x.sum(axis=1, keepdims=True).sum((1, 2))), (3, 4)),
    "max-min": (fn(lambda x, m: x.max(axis=2) - x.min(axis=(1, 2), keepdims=True)[:, 0]),
                (3, 4)),
    # layers exported whole
    "softmax": (lambda: nn.Softmax(axis=1), (5,)),
    "log-softmax": (lambda: nn.Sequential(nn.Linear(5, 5), nn.LogSoftmax(axis=-1)), (5,)),
    "leaky-relu-elu": (lambda: nn.Sequential(nn.LeakyReLU(0.2), nn.ELU(0.7)), (5,)),
    "relu6": (lambda: nn.Sequential(wide_linear(), nn.ReLU6()), (5,)),  # inputs past 0 and 6
    "upsample-nearest": (lambda: nn.Upsample(scale_factor=2), (2, 3, 4)),
    "upsample-nearest-size": (lambda: nn.Upsample(size=(5, 7)), (2, 3, 4)),
    "upsample-bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4)),
    "upsample-bilinear-size": (lambda: nn.Upsample(size=(7, 5), mode="bilinear"), (2, 3, 4)),
    "upsample-align-corners": (
        lambda: nn.Upsample(size=(6, 7), mode="bilinear", align_corners=True), (2, 3, 4)),
    "upsample-nearest-kept-axis": (lambda: nn.Upsample(scale_factor=(1.3, 2.1)), (2, 3, 4)),
    "upsample-bilinear-kept-axis": (lambda: nn.Upsample(scale_factor=(1.3, 1.6),
                                                         mode="bilinear"), (2, 3, 4)),
    "upsample-recompute-scale": (lambda: nn.Upsample(
        scale_factor=(1.5, 1.3), mode="bilinear", recompute_scale_factor=True), (2, 3, 4)),
    "interpolate-functional": (fn(lambda x, m: F.interpolate(x, size=(5, 6), mode="bilinear")),
                               (2, 3, 4)),
    # modes the Resize builder declines: their constant matrix products are exported
    "upsample-bicubic": (lambda: nn.Upsample(scale_factor=1.7, mode="bicubic"), (2, 3, 4)),
    "upsample-nearest-exact": (lambda: nn.Upsample(size=(5, 3), mode="nearest-exact"),
                               (2, 3, 4)),
    "upsample-linear-1d": (lambda: nn.Upsample(size=7, mode="linear", align_corners=True),
                           (3, 4)),
}


@pytest.mark.parametrize("case", CASES)
def test_op_table_row(case, tmp_path):
    make, shape = CASES[case]
    roundtrip(make(), shape, tmp_path)


def ops_of(make, shape, tmp_path):
    path = nn.onnx.export(make(), ad.randn(2, *shape), tmp_path / "ops.onnx")
    return [n.op_type for n in onnx.load(str(path)).graph.node]


@pytest.mark.parametrize("case,expected", [
    ("softmax", ["Softmax"]), ("log-softmax", ["Gemm", "LogSoftmax"]),
    ("leaky-relu-elu", ["LeakyRelu", "Elu"]), ("relu6", ["Gemm", "Clip"]),
    ("global-avg-pool", ["GlobalAveragePool"]), ("global-max-pool", ["GlobalMaxPool"]),
    ("adaptive-max-pool-even-bins", ["MaxPool"]),
    ("adaptive-avg-pool-2x3", ["MatMul", "MatMul"]), ("avg-pool", ["AveragePool"]),
    ("upsample-nearest", ["Resize"]), ("flatten-start-2", ["Reshape"]),
    ("linear-3d", ["Transpose", "MatMul", "Add"]), ("batch-norm-1d", ["BatchNormalization"]),
    ("conv-functional", ["Conv"]), ("conv-transpose-functional-bias", ["ConvTranspose"]),
    # zeros past the full result: a Pad, and the bias added after it
    ("conv-transpose-dilated", ["ConvTranspose", "Pad", "Reshape", "Add"]), ("gelu-erf", None),
    ("getitem-gather", ["Gather"])])
def test_op_table_row_makes_the_onnx_ops(case, expected, tmp_path):
    make, shape = CASES[case]
    ops = ops_of(make, shape, tmp_path)
    if expected is None:
        assert "Erf" in ops and "Tanh" in ops
    else:
        assert ops == expected


def test_table_keys_are_the_engines_op_names():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    from nn.onnx.ops import PRIMITIVES

    names = {c.op_name() for c in subclasses(ad.Function)}
    assert set(PRIMITIVES) <= names, set(PRIMITIVES) - names


def test_a_tensor_computed_before_the_export_is_a_constant(tmp_path):
    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter([1.0, 2.0, 3.0])
            self.scale = self.w * 2.0  # recorded now, not in the exported pass

        def forward(self, x):
            return x * self.scale

    roundtrip(Scaled(), (3,), tmp_path)


# -- refusals --------------------------------------------------------------------------------


class Cube(ad.Function):
    @staticmethod
    def forward(ctx, x):
        return x ** 3

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError


class Cubic(nn.Module):
    def forward(self, x):
        return Cube.apply(x)


def export(model, shape=(4,), tmp_path=None, **options):
    return nn.onnx.export(model, ad.randn(2, *shape), tmp_path / "refused.onnx", **options)


def test_an_op_without_mapping_names_the_op_and_the_layer(tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.ReLU(), Cubic()))
    with pytest.raises(NotImplementedError, match=r"no ONNX mapping for 'cube' made in "
                                                  r"module '1\.1' \(Cubic\)"):
        export(model, tmp_path=tmp_path)
    assert not (tmp_path / "refused.onnx").exists()


def test_batch_norm_without_running_statistics_is_refused(tmp_path):
    model = nn.Sequential(nn.BatchNorm1d(4, track_running_stats=False))
    with pytest.raises(NotImplementedError, match=r"'batch_norm' made in module '0'"):
        export(model, tmp_path=tmp_path)


@pytest.mark.parametrize("forward,what", [
    (lambda x: F.softmax(x, axis=1), "argument 1"),  # x - max(x): the max is a constant
    (lambda x: F.leaky_relu(x, 0.1), "option cond="),  # where(x.data > 0, ...)
    (lambda x: x + ad.tensor(np.zeros((x.shape[0], 4), np.float32)), "argument 1"),
])
def test_a_value_computed_outside_the_graph_is_refused(forward, what, tmp_path):
    with pytest.raises(NotImplementedError, match=rf"module '0' \(Fn\): its {what}.*changes "
                                                  r"with the input.*nn\.Softmax"):
        export(nn.Sequential(Fn(lambda x, m: forward(x))), tmp_path=tmp_path)


def test_a_graph_that_changes_with_the_batch_size_is_refused(tmp_path):
    model = nn.Sequential(Fn(lambda x, m: x * 2.0 if x.shape[0] < 3 else -x))
    with pytest.raises(NotImplementedError, match="runs other ops on another input"):
        export(model, tmp_path=tmp_path)


def test_a_shape_that_mixes_the_batch_axis_is_refused(tmp_path):
    model = nn.Sequential(Fn(lambda x, m: (x * 2.0).reshape(-1)))
    with pytest.raises(NotImplementedError, match=r"'reshape' made in module '0' \(Fn\) has "
                                                  r"shape \(8,\) for a batch of 2 and \(12,\)"):
        export(model, tmp_path=tmp_path)


@pytest.mark.parametrize("forward,why", [
    (lambda x: (x @ x.T).reshape(x.shape[0], x.shape[0]), "the batch axis twice"),
    (lambda x: x[0] * 2.0, "indexes the batch axis"),
    (lambda x: x[[0, 1]] * 2.0, "indexes the batch axis with an array"),
    (lambda x: x[:, np.array([True, False, True, True])], "boolean masks"),
    (lambda x: ad.max(x, axis=1, initial=0.5), "initial= and where="),
    (lambda x: ad.pad(x, ((0, 0), (1, 1)), constant_values=((0, 0), (1, 2))), "one constant"),
])
def test_what_a_builder_cannot_express_is_refused(forward, why, tmp_path):
    with pytest.raises(NotImplementedError, match=why):
        export(nn.Sequential(Fn(lambda x, m: forward(x))), tmp_path=tmp_path)


def test_a_tensor_broadcast_to_the_batch_size_reads_it_from_the_input(tmp_path):
    # (a ViT's class token): Expand to a shape made with the input's batch size
    token = ad.tensor([[1.0, 2.0, 3.0, 4.0]], requires_grad=True)
    model = nn.Sequential(Fn(lambda x, m: x * 2.0 + ad.broadcast_to(token, (x.shape[0], 4))))
    roundtrip(model, (4,), tmp_path, batches=(1, 5))


def test_bad_arguments(tmp_path):
    model = nn.Linear(4, 2)
    with pytest.raises(ValueError, match="opset must be between 13 and"):
        export(model, tmp_path=tmp_path, opset=12)
    with pytest.raises(ValueError, match="floating batch"):
        nn.onnx.export(model, np.ones((2, 4), np.int64), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"output 0 of Constant \(Parameter\) is not computed"):
        class Constant(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter([1.0])

            def forward(self, x):
                return self.w

        export(Constant(), tmp_path=tmp_path)


def test_a_failed_write_keeps_the_old_file(tmp_path):
    from nn.onnx.writer import save

    class Broken:
        def SerializeToString(self):
            raise OSError("disk full")

    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        save(Broken(), path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.onnx"]


def test_without_onnx_the_export_names_the_extra():
    """`import nn` never needs onnx; export says which extra to install."""
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import autodiff as ad, nn\n"
            "try:\n"
            "    nn.onnx.export(nn.Linear(2, 2), ad.ones((1, 2)), 'never.onnx')\n"
            "except ImportError as e:\n"
            "    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stderr
    assert "pip install 'autodiff-nn[export]'" in r.stdout
    assert not (ROOT / "never.onnx").exists()


@pytest.mark.slow
def test_without_onnx_the_suite_still_collects():
    """conftest.py leaves nn/onnx's doctests out; this module skips."""
    code = ("import sys; sys.modules['onnx'] = None\n"
            "import pytest\n"
            "sys.exit(pytest.main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "--collect-only", "-q", "-p",
                        "no:cacheprovider", "nn", "tests/nn/test_onnx.py"], cwd=ROOT,
                       capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "nn/onnx" not in r.stdout and "test_onnx" not in r.stdout
    assert "nn/module.py" in r.stdout  # the library's doctests are there


def test_adaptive_max_pool_with_uneven_bins_is_refused_by_name(tmp_path):
    with pytest.raises(NotImplementedError, match="no ONNX mapping for 'adaptive_max_pool2d' "
                                                  "made in module '0' \\(AdaptiveMaxPool2d\\)"):
        nn.onnx.export(nn.Sequential(nn.AdaptiveMaxPool2d((3, 4))), ad.randn(2, 1, 6, 6),
                       tmp_path / "m.onnx")


class _SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True,
                                          add_zero_attn=True)

    def forward(self, x: ad.Tensor) -> ad.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]


def test_attention_with_bias_kv_and_zero_attn_exports(tmp_path):
    """bias_k/bias_v broadcast over the batch and the zero key as a Pad: no tensor of the
    batch's size is made outside the graph, so the file runs at any batch size."""
    roundtrip(_SelfAttention(), (5, 8), tmp_path)
