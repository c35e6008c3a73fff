"""nn.onnx.export of the layers and functions added beside it: LPPool1d/2d (LpPool, or the
engine's Pow / AveragePool / Mul / Pow), ConvTranspose1d, interpolate's nearest-exact, area,
bicubic and 3-d linear (constant matrix products), affine_grid, weight_norm and spectral_norm
(their weights computed in the graph from original0/original1, and from the stored u and v),
checkpointed forwards (traced straight through); and what is refused by name: grid_sample,
embedding_bag, the losses whose hinge is a mask computed outside the graph, an LPPool with a
norm_type that is not positive.

Two levels: NumPy only (what CI runs), the trace: which nn.functional function made each op,
the second pass's input not an affine image of an example drawn from the same seed, a
checkpoint traced through, and the LPPool builder's ONNX ops written from the operator
specification against the engine; then ONNX Runtime against the engine's forward in evaluation mode,
rtol 1e-5, atol 1e-6 (float32, as tests/nn/test_onnx.py), NaN where the engine's is NaN."""

import numpy as np
import pytest

import autodiff as ad
import nn
import nn.functional as F
from nn.onnx.trace import check_constants, trace_model

RTOL, ATOL = 1e-5, 1e-6


class Fn(nn.Module):
    """A model whose forward is one function of its input (and of its children)."""

    def __init__(self, f, **children):
        super().__init__()
        self.f = f
        for k, v in children.items():
            setattr(self, k, v)

    def forward(self, x):
        return self.f(x, self)


def weight(*shape):
    return nn.Parameter(np.random.default_rng(1).standard_normal(shape).astype(np.float32))


def labels(rows):
    return ad.tensor(np.asarray(rows, np.float32))


# -- NumPy only: the trace ----------------------------------------------------------------------


def test_the_second_pass_is_not_an_affine_image_of_a_seed_0_example():
    """The second pass drew from default_rng(0): on an example drawn from the same seed it
    was the example scaled and shifted, so a mask computed outside the graph (x <= 1) came
    out the same in both passes and was exported frozen (silently wrong in ONNX Runtime)."""
    model = Fn(lambda x, m: ad.where(x.data <= 1.0, x, 0.0))
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    traced = trace_model(model, x, dynamic_batch=False)
    (call,) = [c for c in traced.calls if c.op == "where"]
    with pytest.raises(NotImplementedError, match=r"'where' made in .*option cond= changes"):
        check_constants(traced, call)


def test_a_checkpointed_forward_is_traced_through():
    from autodiff.checkpoint import checkpoint

    model = Fn(lambda x, m: checkpoint(m.body, x), body=nn.Sequential(nn.Linear(4, 3),
                                                                        nn.Tanh()))
    traced = trace_model(model, np.ones((2, 4), np.float32), dynamic_batch=True)
    assert [c.op for c in traced.calls] == ["linear", "tanh"]
    assert [c.module for c in traced.calls] == ["body.0", "body.1"]


def test_each_op_knows_the_functional_function_that_made_it():
    model = Fn(lambda x, m: F.grid_sample(x, F.affine_grid(m.theta, (2, 1, 3, 3))) * 2.0,
               theta=weight(2, 2, 3))
    traced = trace_model(model, np.ones((2, 1, 4, 4), np.float32), dynamic_batch=False)
    functions = {c.function for c in traced.calls}
    assert {"affine_grid", "grid_sample"} <= functions
    assert traced.calls[-1].function == ""  # the model's own `* 2.0`


def onnx_average_pool_1d(x, k, stride, ceil_mode):
    """ONNX's AveragePool on (N, C, L) without pads, count_include_pad=0, from the operator
    specification: with ceil_mode a last window past the end averages the cells it covers."""
    length = x.shape[-1]
    count = -(-(length - k) // stride) + 1 if ceil_mode else (length - k) // stride + 1
    if ceil_mode and (count - 1) * stride >= length:  # a window must start inside
        count -= 1
    return np.stack([x[..., i * stride:min(i * stride + k, length)].mean(axis=-1)
                     for i in range(count)], axis=-1)


@pytest.mark.parametrize("p,k,stride,ceil_mode", [(2.0, 3, 2, False), (3.0, 3, 2, True),
                                                  (1.0, 2, 3, True), (1.5, 4, 1, False)])
def test_lp_pool_is_the_onnx_ops_it_is_written_as(p, k, stride, ceil_mode):
    """NumPy only: the LPPool builder's ops, run as the ONNX specification defines them (Pow,
    AveragePool with count_include_pad=0, Mul by k, Pow by 1/p; LpPool's sum of |x|^p for
    even p without ceil_mode), give the engine's lp_pool1d on positive and signed input."""
    x = np.random.default_rng(4).standard_normal((2, 3, 11))
    for data in (np.abs(x), x):
        with np.errstate(invalid="ignore"):
            want = F.lp_pool1d(ad.tensor(data), p, k, stride=stride,
                               ceil_mode=ceil_mode).numpy()
            got = (onnx_average_pool_1d(data ** p, k, stride, ceil_mode) * k) ** (1 / p)
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
        if p == 2.0 and not ceil_mode:
            lp = onnx_average_pool_1d(np.abs(data) ** p, k, stride, False) * k
            np.testing.assert_allclose(lp ** (1 / p), want, rtol=1e-12)


# -- ONNX Runtime -----------------------------------------------------------------------------


def roundtrip(model, shape, tmp_path, *, batches=(1, 3), positive=False, **options):
    """Export `model` (an example batch of 2), run the file at each batch size and compare
    with the engine (NaN where the engine's is NaN); returns the ONNX op types."""
    onnx = pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not "
                                              "installed")
    ort = pytest.importorskip("onnxruntime", reason="the optional extra 'export' "
                                                    "(onnxruntime) is not installed")
    rng = np.random.default_rng(3)

    def draw(n):
        x = rng.standard_normal((n, *shape)).astype(np.float32)
        return np.abs(x) if positive else x

    path = nn.onnx.export(model, draw(2), tmp_path / "model.onnx", **options)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model.eval()
    for n in batches:
        x = draw(n)
        (got,) = session.run(None, {"input": x})
        with ad.no_grad():
            want = model(ad.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    return [node.op_type for node in onnx.load(str(path)).graph.node]


LP = ["Pow", "AveragePool", "Mul", "Pow"]
CASES = {
    # LpPool where ONNX's sum of |x|^p is the engine's sum of x^p: even p, no ceil_mode
    "lp-pool-1d-p2": (lambda: nn.LPPool1d(2, 3, stride=2), (3, 8), {}, ["LpPool"]),
    "lp-pool-2d-p4": (lambda: nn.LPPool2d(4, (2, 3), stride=(1, 2)), (3, 6, 7), {}, ["LpPool"]),
    # the engine's composition: odd and fractional p (NaN where x^p or the root is), ceil_mode
    "lp-pool-1d-p1": (lambda: nn.LPPool1d(1, 3), (3, 8), {}, LP),
    "lp-pool-1d-p3-ceil": (lambda: nn.LPPool1d(3, 3, stride=2, ceil_mode=True), (3, 8), {}, LP),
    "lp-pool-2d-p2-ceil": (lambda: nn.LPPool2d(2, 3, stride=2, ceil_mode=True), (3, 8, 7), {},
                           LP),
    "lp-pool-2d-p1.5-nan": (lambda: nn.LPPool2d(1.5, 2), (3, 6, 6), {}, LP),
    "lp-pool-2d-p1.5": (lambda: nn.LPPool2d(1.5, 2), (3, 6, 6), {"positive": True}, LP),
    "conv-transpose-1d": (lambda: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1,
                                                     output_padding=1, groups=2), (4, 7), {},
                          ["Reshape", "Reshape", "ConvTranspose", "Reshape"]),
    "conv-transpose-1d-dilated-pad": (
        lambda: nn.ConvTranspose1d(2, 3, 2, dilation=3, output_padding=2), (2, 5), {},
        ["Reshape", "Reshape", "ConvTranspose", "Pad", "Reshape", "Add", "Reshape"]),
    "conv-transpose-1d-functional": (
        lambda: Fn(lambda x, m: F.conv_transpose1d(x, m.w, m.b, stride=2), w=weight(2, 3, 3),
                   b=weight(3)), (2, 5), {}, None),
    "nearest-exact-scale": (lambda: nn.Upsample(scale_factor=1.5, mode="nearest-exact"),
                            (2, 3, 4), {}, ["MatMul", "MatMul"]),
    "area": (lambda: nn.Upsample(size=(2, 3), mode="area"), (2, 5, 7), {}, ["MatMul", "MatMul"]),
    "bicubic-align-corners": (lambda: nn.Upsample(size=(5, 6), mode="bicubic",
                                                  align_corners=True), (2, 3, 4), {}, None),
    "linear-3d": (lambda: nn.Upsample(size=7, mode="linear"), (3, 4), {}, ["MatMul"]),
    "nearest-3d": (lambda: nn.Upsample(scale_factor=2), (3, 4), {}, ["MatMul"]),
    "affine-grid": (lambda: Fn(lambda x, m: F.affine_grid(m.loc(x).reshape(x.shape[0], 2, 3),
                                                         (x.shape[0], 1, 3, 4),
                                                         align_corners=True),
                               loc=nn.Linear(4, 6)), (4,), {}, None),
    "weight-norm": (lambda: nn.utils.parametrizations.weight_norm(nn.Linear(4, 3)), (4,), {},
                    None),
    "weight-norm-conv-dim-none": (lambda: nn.utils.parametrizations.weight_norm(
        nn.Conv2d(2, 3, 3), dim=None), (2, 5, 5), {}, None),
    "spectral-norm": (lambda: nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3)), (4,),
                      {}, None),
    "checkpoint": (lambda: Fn(lambda x, m: ad.checkpoint.checkpoint(m.body, x),
                              body=nn.Sequential(nn.Linear(4, 5), nn.GELU(), nn.Linear(5, 2))),
                   (4,), {}, None),
    "soft-margin-loss": (lambda: Fn(lambda x, m: F.soft_margin_loss(
        x, labels([[1, -1, 1, 1], [-1, -1, 1, -1]]), reduction="none")), (4,),
        {"dynamic_batch": False, "batches": (2, 2)}, None),
    "multilabel-soft-margin-loss": (lambda: Fn(lambda x, m: F.multilabel_soft_margin_loss(
        x, labels([[1, 0, 1, 1], [0, 0, 1, 0]]), reduction="none")), (4,),
        {"dynamic_batch": False, "batches": (2, 2)}, None),
}


@pytest.mark.parametrize("case", CASES)
def test_exported_as_the_engine_computes(case, tmp_path):
    make, shape, options, expected = CASES[case]
    ops = roundtrip(make(), shape, tmp_path, **options)
    if expected is not None:
        assert ops == expected


def test_spectral_norm_exports_the_stored_vectors_and_does_not_iterate(tmp_path):
    """In evaluation the weight is W / (u^T W v) with the stored u and v: the export must
    neither run a power iteration step (u, v unchanged) nor freeze another sigma."""
    layer = nn.utils.parametrizations.spectral_norm(nn.Linear(4, 3))
    layer.train()
    with ad.no_grad():
        layer(ad.ones((2, 4)))  # one training step moves u and v away from their start
    u = layer.parametrizations.weight[0]._u.numpy().copy()
    roundtrip(layer, (4,), tmp_path)
    np.testing.assert_array_equal(layer.parametrizations.weight[0]._u.numpy(), u)


REFUSALS = {
    "grid-sample": (lambda: Fn(lambda x, m: F.grid_sample(x, ad.tanh(x[:, :1].reshape(
        x.shape[0], 3, 2, 2)))), (1, 3, 4), {}, r"by nn\.functional\.grid_sample: grid_sample "
        r"is not exported"),
    "embedding-bag": (lambda: Fn(lambda x, m: m.bag(ad.tensor(np.array([[0, 2], [1, 3]])))
                                 * x, bag=nn.EmbeddingBag(5, 3, mode="mean")), (3,),
                      {"dynamic_batch": False},
                      r"module 'bag' \(EmbeddingBag\) by nn\.functional\.embedding_bag"),
    "hinge-embedding-loss": (lambda: nn.Sequential(Fn(lambda x, m: F.hinge_embedding_loss(
        x, labels([[1, -1, 1, 1], [-1, -1, 1, -1]]), reduction="none"))), (4,),
        {"dynamic_batch": False}, r"module '0' \(Fn\) by nn\.functional\.hinge_embedding_loss:"
        r" hinge_embedding_loss is not exported: its hinge"),
    "multi-margin-loss": (lambda: Fn(lambda x, m: F.multi_margin_loss(
        x, np.array([1, 3]), reduction="none")), (4,), {"dynamic_batch": False},
        "multi_margin_loss is not exported"),
    "multilabel-margin-loss": (lambda: Fn(lambda x, m: F.multilabel_margin_loss(
        x, np.array([[3, 0, -1, 1], [1, 2, -1, 0]]), reduction="none")), (4,),
        {"dynamic_batch": False}, "multilabel_margin_loss is not exported"),
    "triplet-margin-with-distance-loss": (lambda: Fn(
        lambda x, m: nn.TripletMarginWithDistanceLoss(reduction="none")(x, x * 2.0, x + 1.0)),
        (4,), {}, "triplet_margin_with_distance_loss is not exported"),
    "lp-pool-negative-norm-type": (lambda: nn.Sequential(nn.LPPool1d(-1.0, 2)), (3, 8), {},
                                   r"module '0' \(LPPool1d\): norm_type=-1.0 is not exported"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refused_by_name(case, tmp_path):
    pytest.importorskip("onnx", reason="the optional extra 'export' (onnx) is not installed")
    make, shape, options, message = REFUSALS[case]
    x = np.random.default_rng(3).standard_normal((2, *shape)).astype(np.float32)
    with pytest.raises(NotImplementedError, match=message):
        nn.onnx.export(make(), x, tmp_path / "model.onnx", **options)
    assert not (tmp_path / "model.onnx").exists()
