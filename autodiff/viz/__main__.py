"""Draw the graph a define-by-run script builds, without writing drawing code:

    python -m autodiff.viz SCRIPT.py --out graph.svg [--var NAME] [--view backward] [--depth K]
    python -m autodiff.viz MODEL.onnx --out graph.svg

The script runs as __main__; then the tensor named by --var is drawn (default: the first of
`loss`, `out`, `output`, `y` that is a Tensor). A module-level nn.Module (any object with
named_parameters) names the parameters. An .onnx file is drawn as it is (`render_onnx`). The
output format follows the extension (.svg, .png, .pdf, .dot); without Graphviz's `dot`
program a .dot file is written instead, with a message.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Any

from autodiff.tensor import Tensor
from autodiff.viz.onnx_graph import render_onnx
from autodiff.viz.render import LAYOUT_TIMEOUT, dot_available, render

DEFAULT_NAMES = ("loss", "out", "output", "y")


def _positive(text: str) -> int:
    """An argparse type: an integer of at least 1 (a depth, a number of nodes)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {n}")
    return n


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds, 0 or more (0: no limit)."""
    try:
        t = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not t >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 (no limit) or more, got {text}")
    return t


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m autodiff.viz", description=__doc__.split("\n")[0])
    p.add_argument("script", help="a define-by-run Python script, or an .onnx file")
    p.add_argument("--out", default="graph.svg")
    p.add_argument("--var", default=None, help="the variable holding the tensor to draw")
    p.add_argument("--view", choices=["forward", "backward"], default="forward")
    p.add_argument("--depth", type=_positive, default=None,
                   help="collapse the layers at this depth (1: the model's children)")
    p.add_argument("--max-nodes", type=_positive, default=None)
    p.add_argument("--values", action="store_true", help="show min/mean/max of values")
    p.add_argument("--timeout", type=_seconds, default=LAYOUT_TIMEOUT,
                   help="seconds Graphviz may take to lay the drawing out (0: no limit)")
    args = p.parse_args(argv)
    if not os.path.isfile(args.script):
        p.error(f"no such file: {args.script}")
    timeout = args.timeout or None
    out = args.out
    if not out.endswith((".dot", ".gv")) and not dot_available():
        out = os.path.splitext(out)[0] + ".dot"
        print(f"autodiff.viz: Graphviz's `dot` is not installed, so {args.out} cannot be "
              f"rendered; writing the DOT text to {out} instead (install graphviz to render)",
              file=sys.stderr)
    try:
        return _draw(args, out, timeout)
    except (TimeoutError, ValueError, RuntimeError, OSError) as e:  # a drawing that failed
        print(f"autodiff.viz: {e}", file=sys.stderr)
        return 1


def _draw(args: argparse.Namespace, out: str, timeout: float | None) -> int:
    """Run the script (or read the .onnx file) and draw what `args` names into `out`."""
    if args.script.endswith(".onnx"):
        print(f"autodiff.viz: wrote {render_onnx(args.script, path=out, timeout=timeout)}")
        return 0

    namespace: dict[str, Any] = runpy.run_path(args.script, run_name="__main__")
    names = [args.var] if args.var else list(DEFAULT_NAMES)
    target = next((namespace[n] for n in names if isinstance(namespace.get(n), Tensor)), None)
    if target is None:
        print(f"autodiff.viz: {args.script} defines no tensor named "
              f"{' or '.join(names)}; name the one to draw with --var", file=sys.stderr)
        return 2
    model = next((v for v in namespace.values() if hasattr(v, "named_parameters")
                  and not isinstance(v, type)), None)
    render(target, path=out, names=namespace, model=model, view=args.view, depth=args.depth,
           max_nodes=args.max_nodes, show_values=args.values, timeout=timeout)
    print(f"autodiff.viz: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
