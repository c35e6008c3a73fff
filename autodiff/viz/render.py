"""From DOT text to a `graphviz.Digraph` (render to SVG/PNG/PDF, inline in Jupyter)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from typing import Any

from autodiff.exclusive_file import create_exclusive
from autodiff.tensor import Tensor
from autodiff.viz.dot import _escape, to_dot

LAYOUT_TIMEOUT = 60.0  # seconds Graphviz may take to lay a drawing out (render's default)


class GraphvizMissing(RuntimeError):
    """Rendering needs Graphviz's `dot` program; `to_dot` works without it.

    >>> from autodiff import viz
    >>> issubclass(viz.GraphvizMissing, RuntimeError)
    True
    """


def dot_available() -> bool:
    """True when Graphviz's `dot` program is on the PATH (needed by `draw` and `render`).

    >>> from autodiff import viz
    >>> isinstance(viz.dot_available(), bool)
    True
    """
    return shutil.which("dot") is not None


def draw(*outputs: Tensor, **options: Any) -> Any:
    """The graph of `outputs` as a `graphviz.Digraph` (same options as `to_dot`).

    `.render(filename, format="svg")`, `.pipe(format="png")`, and inline display in Jupyter
    (`_repr_mimebundle_`) come from the graphviz package; they need the `dot` program.

    >>> import autodiff as ad
    >>> from autodiff import viz
    >>> x = ad.tensor([1.0, 2.0], requires_grad=True)
    >>> g = viz.draw((x * 3).sum())
    >>> "digraph" in g.source
    True
    """
    return digraph(to_dot(*outputs, **options), options.get("title") or "autodiff")


def render(*outputs: Tensor, path: str, timeout: float | None = LAYOUT_TIMEOUT,
           **options: Any) -> str:
    """Draw `outputs` into `path`; the format comes from the extension (.svg, .png, .pdf, or
    .dot for the text). Returns the path written. A clear error when `dot` is missing, and
    when its layout takes more than `timeout` seconds (None: no limit).

    >>> import autodiff as ad
    >>> import os, tempfile
    >>> from autodiff import viz
    >>> y = ad.tanh(ad.tensor([1.0], requires_grad=True))
    >>> path = viz.render(y, path=os.path.join(tempfile.mkdtemp(), 'graph.dot'))
    >>> open(path).read().startswith('digraph')
    True
    """
    check_path(path, "viz.render")
    return write(path, to_dot(*outputs, **options), options.get("title") or "autodiff",
                 timeout)


def digraph(text: str, name: str) -> Any:
    """DOT text as a `graphviz.Digraph` named `name`."""
    import graphviz

    body = text.split("\n")[1:-2]  # between "digraph ... {" and "}"
    # (escaped: graphviz's quoting broke on a final backslash; and <...> it takes for HTML,
    # which it leaves unquoted)
    name = _escape(name) + (" " if name.startswith("<") and name.endswith(">") else "")
    g = graphviz.Digraph(name=name)
    g.body.extend(line + "\n" for line in body)
    return g


def check_path(path: str | os.PathLike[str], where: str) -> None:
    """A clear error, before any work, for an output path that cannot be written: a folder,
    or a file in a folder that does not exist.

    >>> import tempfile
    >>> check_path(tempfile.gettempdir(), "viz.render")
    Traceback (most recent call last):
    ...
    IsADirectoryError: viz.render: the output path ... is a folder; give a file name in it
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where}: the output path {path!r} is a folder; give a file "
                                "name in it")
    folder = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{where}: the folder {os.path.dirname(path)!r} of the output "
                                f"path {path!r} does not exist")


def write(path: str, text: str, name: str, timeout: float | None = LAYOUT_TIMEOUT) -> str:
    """DOT text into `path`, in the format its extension names (.dot: the text itself), laid
    out by Graphviz's `dot` within `timeout` seconds (None: no limit).

    Atomic: the bytes go to a temporary file beside `path`, which then replaces it, so a
    failed drawing (no `dot`, an unknown format, a timeout, a full disk) leaves an earlier file
    whole."""
    check_path(path, "viz")
    if timeout is not None and not (isinstance(timeout, int | float) and timeout > 0):
        raise ValueError(f"viz: timeout must be a number of seconds above 0, or None (no "
                         f"limit), got {timeout!r}")
    fmt = path.rsplit(".", 1)[-1].lower() if "." in os.path.basename(path) else "svg"
    data = text.encode() if fmt in ("dot", "gv") else _layout(text, fmt, path, timeout)
    _replace(path, data)
    return path


def _layout(text: str, fmt: str, path: str, timeout: float | None) -> bytes:
    """The drawing in format `fmt`, from Graphviz's `dot` program (clear errors)."""
    if not dot_available():
        raise GraphvizMissing(
            "rendering needs Graphviz's `dot` program, which is not on PATH (install it: "
            "apt-get install graphviz, brew install graphviz, or conda install graphviz); "
            "autodiff.viz.to_dot() still gives the DOT text")
    try:
        r = subprocess.run(["dot", f"-T{fmt}"], input=text.encode(), capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        nodes = text.count("[label=")
        raise TimeoutError(
            f"viz: Graphviz's dot did not lay out the {nodes:,} nodes of this drawing in "
            f"{timeout:g} s (its layout time grows fast with size; {path!r} is left as it "
            "was): draw fewer nodes (max_nodes=, or depth= with a traced model), give a "
            "longer timeout= (None: no limit), or write the DOT text to a .dot file") from None
    if r.returncode != 0:
        err = r.stderr.decode(errors="replace").strip()
        if "not recognized" in err:
            raise ValueError(f"viz: cannot draw to {path!r}: unknown format {fmt!r} (use .svg, "
                             ".png, .pdf, or .dot for the DOT text)")
        raise RuntimeError(f"viz: Graphviz's dot failed on {path!r}: {err}")
    return r.stdout


def _replace(path: str, data: bytes) -> None:
    """`data` into a new file beside `path`, renamed over it: created 0666 through the umask
    (as any new file; mkstemp's 0600 would hide a drawing from a web server), or with the
    mode of the file it replaces."""
    target = os.path.realpath(path)  # through a symlink: the file it points to
    folder, name = os.path.split(target)
    fd, tmp = create_exclusive(os.path.join(folder, f".{name}."), ".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise
