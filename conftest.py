"""pytest, for the whole checkout: autodiff.scipy (the optional extra 'scipy') is collected
for its doctests only where SciPy is installed, nn.onnx and autodiff.viz's drawing of ONNX
files (the extra 'export') only where onnx and ONNX Runtime are, the tests' PyTorch twins of
our models only where PyTorch is."""

import importlib.util


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules: blocked
        return False


collect_ignore = [] if _installed("scipy") else ["autodiff/scipy"]
if not (_installed("onnx") and _installed("onnxruntime")):
    collect_ignore += ["nn/onnx", "autodiff/viz/onnx_graph.py"]
if not _installed("torch"):  # PyTorch twins of our models, for the weight round trips (bench extra)
    collect_ignore += ["tests/nn/vision/torch_twins.py"]
