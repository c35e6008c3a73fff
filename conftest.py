"""pytest, for the whole checkout: autodiff.scipy (the optional extra 'scipy') is collected
for its doctests only where SciPy is installed, nn.onnx and autodiff.viz's drawing of ONNX
files (the extra 'export') only where onnx and ONNX Runtime are, the tests' PyTorch twins of
our models only where PyTorch is."""

import importlib.util

# The packages imported before collection: pytest's importlib mode, collecting a file's
# doctests, reuses the module in sys.modules; a module not yet there it executes from its
# file while its package's __init__ imports it too, and the package's other modules keep the
# first copy (a second copy of module state: autodiff.replay's stack, the thread generator).
import autodiff  # noqa: F401
import nn  # noqa: F401


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


def pytest_collection_modifyitems(session, config, items):
    """Undo what pytest's importlib import mode does when it imports a submodule for its
    doctests: it binds the submodule on its package, so `nn.functional.interpolate` became the
    file interpolate.py instead of the function the package exports under that name (a doctest
    calling `F.interpolate` then failed, depending on the order the files were collected)."""
    import sys
    import types

    for pkg_name, pkg in list(sys.modules.items()):
        if pkg_name.split(".")[0] not in ("autodiff", "nn") or not hasattr(pkg, "__path__"):
            continue
        exported_modules = _modules_exported(pkg)
        for name in getattr(pkg, "__all__", ()):
            value = getattr(pkg, name, None)
            if (isinstance(value, types.ModuleType) and value.__name__ == f"{pkg_name}.{name}"
                    and name not in exported_modules and callable(getattr(value, name, None))):
                setattr(pkg, name, getattr(value, name))


def _modules_exported(pkg) -> set[str]:
    """The submodules a package's __init__ binds as modules (`from nn.utils import
    checkpoint`): those stay modules (nn.utils exports the module checkpoint, which holds a
    function checkpoint)."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(pkg.__file__).read_text())
    return {alias.asname or alias.name for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == pkg.__name__
            for alias in node.names}
