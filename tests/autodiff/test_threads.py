"""The engine under threads and interrupts: backward calls in several threads, the state they
share (the leaves' .grad, version counters, the pool of temporaries), and a KeyboardInterrupt
in the middle of a backward (docs/engine.md, "Threads and interrupts")."""

from __future__ import annotations

import itertools
import signal
import sys
import threading

import numpy as np
import pytest

import autodiff as ad
import nn.functional as F
from autodiff import versions


@pytest.fixture
def fast_switching():
    """Let the interpreter switch threads as often as it can, so that races show."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def _run_threads(target, n: int) -> None:
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            target(k)
        except BaseException as e:  # (reported in the test's own thread)
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# -- one graph, backward from several threads: the .grad of a leaf is the sum --------------


def test_backward_in_threads_through_one_graph_sums_into_grad(fast_switching):
    # NumPy lets go of the interpreter lock while it adds a large array, so on an unlocked
    # read-add-write of .grad one thread's sum overwrites another's (main lost 2/3 of them).
    x = ad.tensor(np.arange(1_000_000, dtype=np.float64), requires_grad=True)
    y = (x * 3.0).sum()
    calls, threads = 20, 3

    def work(_: int) -> None:
        for _ in range(calls):
            y.backward(retain_graph=True)

    _run_threads(work, threads)
    np.testing.assert_array_equal(x.grad.numpy(), np.full(x.shape, 3.0 * calls * threads))


def test_retain_grad_in_threads_through_one_graph_sums(fast_switching):
    x = ad.tensor(np.ones(1_000_000), requires_grad=True)
    h = x * 2.0
    h.retain_grad()
    y = (h * 3.0).sum()
    calls, threads = 20, 3

    def work(_: int) -> None:
        for _ in range(calls):
            y.backward(retain_graph=True)

    _run_threads(work, threads)
    np.testing.assert_array_equal(h.grad.numpy(), np.full(h.shape, 3.0 * calls * threads))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(x.shape, 6.0 * calls * threads))


def test_backward_in_threads_on_their_own_graphs_equals_sequential(fast_switching):
    rng = np.random.default_rng(0)
    w = ad.tensor(rng.standard_normal((32, 16)), requires_grad=True)  # shared, read only
    xs = [rng.standard_normal((8, 32)) for _ in range(3)]

    def grads(x: np.ndarray) -> list[np.ndarray]:
        xt = ad.tensor(x, requires_grad=True)
        (dx, dw) = ad.gradients((ad.tanh(xt @ w) ** 2).sum(), [xt, w])
        return [dx.numpy(), dw.numpy()]

    expected = [grads(x) for x in xs]

    def work(k: int) -> None:
        for _ in range(30):
            for got, want in zip(grads(xs[k]), expected[k]):
                np.testing.assert_array_equal(got, want)

    _run_threads(work, 3)


_GATE: dict = {}  # the thread _Gated's backward holds, and its two events


class _Gated(ad.Function):
    """x * x with a backward on arrays that waits, in the thread named in _GATE, until
    another thread's backward through the same node has run."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        if threading.current_thread() is _GATE.get("thread"):
            _GATE["entered"].set()
            _GATE["other_done"].wait(5)
        (x,) = ctx.saved_tensors
        return 2 * x * grad


def test_a_create_graph_backward_keeps_tensors_while_another_thread_walks_on_arrays():
    # Whether a backward gets arrays or Tensors was a flag on the node, set by each walk: a
    # walk without create_graph in another thread switched it under a create_graph walk,
    # which then got x as an array: its gradient 2 * x * grad came back cut from x (main: dx
    # did not require grad, and in a larger sum its part of a second derivative was lost).
    x = ad.tensor([3.0], requires_grad=True)
    y = _Gated.apply(x).sum()
    second = {}
    entered, other_done = threading.Event(), threading.Event()

    def outer() -> None:
        (dx,) = ad.gradients(y, [x], create_graph=True, retain_graph=True)
        second["connected"] = dx.requires_grad
        if dx.requires_grad:
            (second["d2x"],) = ad.gradients(dx.sum(), [x])

    t = threading.Thread(target=outer)
    _GATE.update(thread=t, entered=entered, other_done=other_done)
    try:
        t.start()
        assert entered.wait(5)
        (first,) = ad.gradients(y, [x], retain_graph=True)  # this thread: arrays
        other_done.set()
        t.join()
    finally:
        _GATE.clear()
    assert first.item() == 6.0
    assert second["connected"]  # main: False
    assert second["d2x"].item() == 2.0


# -- version counters: one write at a time ----------------------------------------------------


class _StallFirst:
    """The shared sequence of numbers, whose first call (in the thread that makes it) waits
    until `release` is set or 0.5 s pass, after taking its number."""

    def __init__(self, release: threading.Event, during) -> None:
        self.numbers = itertools.count(next(versions.numbers))
        self.release, self.during = release, during
        self.stalled = False

    def __iter__(self):
        return self

    def __next__(self) -> int:
        n = next(self.numbers)
        if not self.stalled:
            self.stalled = True
            self.during()
            self.release.wait(0.5)
        return n


def test_a_write_published_late_does_not_hide_a_newer_one(monkeypatch):
    # A thread that took a write's number and was switched out before it published it as
    # last_write then set last_write back below a newer write: a node made in between skipped
    # its check and its backward used the new values silently (main: x.grad == 5, not 1).
    x = ad.tensor([2.0], requires_grad=True)
    b = ad.tensor([1.0])
    other = ad.tensor([0.0])
    done = threading.Event()
    made = {}

    def meanwhile() -> None:  # while the first write holds its number
        made["y"] = x * b  # saves b
        writer = threading.Thread(target=lambda: (b.__setitem__(0, 5.0), done.set()))
        writer.start()
        made["writer"] = writer

    numbers = _StallFirst(done, meanwhile)
    monkeypatch.setattr(versions, "numbers", numbers)
    monkeypatch.setattr("autodiff.function._numbers", numbers)
    other[0] = 1.0  # the first write: stalls after taking its number
    made["writer"].join()
    assert b._version == 1
    with pytest.raises(RuntimeError, match="modified in place after it was saved"):
        made["y"].sum().backward()


def test_first_writes_into_one_memory_from_two_threads_are_both_counted(monkeypatch):
    # The first write into a memory makes its counter: a thread switched out while it made one
    # then stored it over the counter another thread had made and counted its write in (main:
    # version 1 after two writes, the other write's record lost).
    base = ad.zeros(4)
    done = threading.Event()
    made = []

    class StallFirst(versions._Counter):
        __slots__ = ()

        def __init__(self, owner) -> None:
            super().__init__(owner)
            if not made:  # the first counter made: the other thread writes meanwhile
                made.append(threading.Thread(target=lambda: (base.__setitem__(1, 2.0),
                                                             done.set())))
                made[0].start()
                done.wait(0.5)

    monkeypatch.setattr(versions, "_Counter", StallFirst)
    base[0] = 1.0
    made[0].join()
    assert base._version == 2


# -- the pool of temporaries under threads ----------------------------------------------------


def _cnn_step(x: np.ndarray, w1: np.ndarray, w2: np.ndarray) -> list[np.ndarray]:
    xt = ad.tensor(x, requires_grad=True)
    k1, k2 = ad.tensor(w1, requires_grad=True), ad.tensor(w2, requires_grad=True)
    h = F.max_pool2d(F.relu(F.conv2d(xt, k1, padding=1)), 2)
    h = F.avg_pool2d(F.conv2d(h, k2, padding=1), 2)
    (h * h).sum().backward()
    return [h.data, xt.grad.numpy(), k1.grad.numpy(), k2.grad.numpy()]


def test_convolutions_in_threads_equal_sequential_bit_for_bit(fast_switching):
    rng = np.random.default_rng(1)
    w1 = rng.standard_normal((8, 4, 3, 3)).astype(np.float32)
    w2 = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    xs = [rng.standard_normal((16, 4, 32, 32)).astype(np.float32) for _ in range(3)]
    expected = [_cnn_step(x, w1, w2) for x in xs]  # patch matrices of several MiB: pooled

    def work(k: int) -> None:
        for i in range(6):
            if k == 0 and i % 2:
                ad.release_buffers()  # from another thread, mid-training
            if k == 1 and i == 3:
                ad.set_buffer_limit(ad.set_buffer_limit(4 << 20))
            for got, want in zip(_cnn_step(xs[k], w1, w2), expected[k]):
                np.testing.assert_array_equal(got, want)

    _run_threads(work, 3)


def test_a_model_in_eval_mode_serves_a_thread_pool_as_one_thread_would(fast_switching):
    from concurrent.futures import ThreadPoolExecutor

    import nn

    ad.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Dropout(0.5), nn.Flatten(),
                          nn.Linear(8 * 16 * 16, 10))
    model.train()
    with ad.no_grad():
        model(ad.randn(64, 3, 32, 32))  # running statistics of its own
    model.eval()
    rng = np.random.default_rng(3)
    batches = [rng.standard_normal((32, 3, 32, 32)).astype(np.float32) for _ in range(4)]

    @ad.no_grad()
    def serve(x: np.ndarray) -> np.ndarray:
        return model(ad.tensor(x)).numpy()

    expected = [serve(x) for x in batches]
    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(serve, batches * 4))
    for k, out in enumerate(got):
        np.testing.assert_array_equal(out, expected[k % len(batches)])


# -- interrupts -----------------------------------------------------------------------------


def test_an_interrupt_in_a_leaf_hook_leaves_every_grad_as_it_was():
    # Leaves are handed their gradients at the end of the walk; the hooks all run before any
    # .grad is written, so a KeyboardInterrupt in the second leaf's hook leaves the first
    # untouched (main: a.grad was written, and a retry counted it twice). PyTorch writes each
    # leaf as the walk reaches it, and leaves the partial sums.
    a = ad.tensor([1.0, 1.0], requires_grad=True)
    b = ad.tensor([1.0, 1.0], requires_grad=True)
    calls = []

    def hook(g):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt

    a.register_hook(hook)
    b.register_hook(hook)
    y = (a * 2.0 + b * 3.0).sum()
    with pytest.raises(KeyboardInterrupt):
        y.backward(retain_graph=True)
    assert a.grad is None and b.grad is None
    y.backward()
    assert a.grad.tolist() == [2.0, 2.0] and b.grad.tolist() == [3.0, 3.0]


def test_an_interrupt_while_grads_are_written_puts_back_those_written(monkeypatch):
    from autodiff import backward as backward_mod

    a = ad.tensor([1.0], requires_grad=True)
    b = ad.tensor([1.0], requires_grad=True)
    a.grad = ad.tensor([10.0])
    y = (a * 2.0 + b * 3.0).sum()

    def interrupt(*args):  # a's sum made after b's .grad was written: as if Ctrl-C came then
        raise KeyboardInterrupt

    ready = [(b, ad.tensor([3.0]), False), (a, ad.tensor([2.0]), False)]
    monkeypatch.setattr(backward_mod.Tensor, "_make", classmethod(interrupt))
    with pytest.raises(KeyboardInterrupt):
        backward_mod._write_grads(ready, create_graph=False)
    monkeypatch.undo()
    assert a.grad.tolist() == [10.0] and b.grad is None
    y.backward()
    assert a.grad.tolist() == [12.0] and b.grad.tolist() == [3.0]


class _InterruptAt(ad.Function):
    """The identity, whose backward raises KeyboardInterrupt while `armed`."""

    armed = False

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        if _InterruptAt.armed:
            raise KeyboardInterrupt
        return grad


def _chain(x, k: int):
    """tanh applied 2k times, with _InterruptAt in the middle."""
    y = x
    for _ in range(k):
        y = ad.tanh(y)
    y = _InterruptAt.apply(y)
    for _ in range(k):
        y = ad.tanh(y)
    return y.sum()


def test_an_interrupted_backward_writes_no_grad_and_a_retry_is_right_or_refused():
    x = ad.tensor([0.5, -0.25], requires_grad=True)
    (expected,) = ad.gradients(_chain(x, 5), [x])
    for retain in (True, False):
        x.grad = None
        y = _chain(x, 5)
        _InterruptAt.armed = True
        try:
            with pytest.raises(KeyboardInterrupt):
                y.backward(retain_graph=retain)
        finally:
            _InterruptAt.armed = False
        assert x.grad is None
        if retain:  # the graph is whole: the retry gives the gradient once
            y.backward()
            np.testing.assert_array_equal(x.grad.numpy(), expected.numpy())
        else:  # the nodes walked before the interrupt were freed: a retry is refused
            with pytest.raises(RuntimeError, match="a second time"):
                y.backward()
            assert x.grad is None


def test_grad_mode_comes_back_after_an_interrupted_backward_and_forward():
    x = ad.tensor([0.5], requires_grad=True)
    y = _chain(x, 2)
    _InterruptAt.armed = True
    try:
        with ad.no_grad():
            with pytest.raises(KeyboardInterrupt):
                y.backward(create_graph=True)  # the walk turns recording on inside
            assert not ad.is_grad_enabled()
    finally:
        _InterruptAt.armed = False
    with pytest.raises(KeyboardInterrupt), ad.no_grad():
        raise KeyboardInterrupt  # as if in the middle of a forward
    assert ad.is_grad_enabled()


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs signal.setitimer (POSIX)")
def test_a_timer_interrupt_anywhere_in_backward_writes_all_grads_or_none():
    # SIGALRM's handler raises KeyboardInterrupt at whatever bytecode the walk is at: the
    # leaves' .grad are then either all untouched or all complete, never some of them.
    rng = np.random.default_rng(2)
    leaves = [ad.tensor(rng.standard_normal(64), requires_grad=True) for _ in range(40)]

    def loss():
        y = leaves[0]
        for leaf in leaves[1:]:
            y = ad.tanh(y * leaf + 0.1)
        return (y * y).sum()

    expected = ad.gradients(loss(), leaves)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    outcomes = set()
    try:
        for delay in np.linspace(1e-5, 2e-3, 40):
            for leaf in leaves:
                leaf.grad = None
            y = loss()
            try:
                signal.setitimer(signal.ITIMER_REAL, delay)
                y.backward(retain_graph=True)
                signal.setitimer(signal.ITIMER_REAL, 0)
                outcomes.add("finished")
            except KeyboardInterrupt:
                signal.setitimer(signal.ITIMER_REAL, 0)
                written = [leaf.grad is not None for leaf in leaves]
                assert all(written) or not any(written), written
                outcomes.add("all" if all(written) else "none")
                if not any(written):  # the graph is whole: a retry gives each gradient once
                    y.backward()
            for leaf, g in zip(leaves, expected):
                if leaf.grad is not None:
                    np.testing.assert_array_equal(leaf.grad.numpy(), g.numpy())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert outcomes  # (which ones depends on the machine's speed)


# -- grad mode objects shared by threads ------------------------------------------------------


def test_one_no_grad_object_entered_by_two_threads_gives_each_its_own_mode_back():
    # The modes to restore were one stack on the object: a thread leaving the block popped the
    # mode another thread had pushed (main: recording stayed off in the first thread).
    inference = ad.no_grad()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    after = {}

    def a() -> None:  # recording on before the block
        with inference:
            a_in.set()
            b_in.wait(5)
        after["a"] = ad.is_grad_enabled()
        a_out.set()

    def b() -> None:  # recording off before the block
        ad.set_grad_enabled(False)
        a_in.wait(5)
        with inference:
            b_in.set()
            a_out.wait(5)
        after["b"] = ad.is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert after == {"a": True, "b": False}
    assert inference.prev == {}  # nothing left behind per thread


# -- every per-thread context manager: shared by threads, entered again, interrupted --------


def _thread_state() -> tuple:
    """All a thread's own settings that context managers change."""
    from autodiff.anomaly import current_scope
    from autodiff.grad_mode import STATE

    return (ad.is_grad_enabled(), ad.is_anomaly_enabled(), np.geterr(), current_scope(),
            STATE.observer)


def _observer(node, args, kwargs) -> None:
    pass


_MANAGERS = {  # name -> a new object
    "no_grad": ad.no_grad,
    "enable_grad": ad.enable_grad,
    "set_grad_enabled": lambda: ad.set_grad_enabled(False),  # (switches at once, as PyTorch's)
    "detect_anomaly": ad.detect_anomaly,
    "detect_anomaly(False)": lambda: ad.detect_anomaly(False),
    "anomaly_scope": lambda: ad.anomaly_scope("shared"),
    "observe_ops": lambda: ad.observe_ops(_observer),
}


@pytest.mark.parametrize("name", [n for n in _MANAGERS if n != "set_grad_enabled"])
def test_one_manager_object_entered_by_two_threads_gives_each_its_own_state_back(name):
    # detect_anomaly and observe_ops kept what they replaced in one stack on the object: the
    # thread leaving first popped what the other had pushed (main: detect_anomaly raised
    # "Token ... was created in a different Context" from NumPy's errstate; observe_ops left
    # the other thread's callback observing this thread's ops, silently).
    shared = _MANAGERS[name]()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    before, inside, after = {}, {}, {}

    def a() -> None:  # every setting at its default before the block
        before["a"] = _thread_state()
        with shared:
            inside["a"] = _thread_state()
            a_in.set()
            assert b_in.wait(5)
        after["a"] = _thread_state()
        a_out.set()

    def b() -> None:  # every setting changed before the block
        with (ad.set_grad_enabled(False), ad.detect_anomaly(), ad.anomaly_scope("b"),
              ad.observe_ops(lambda node, args, kwargs: None), np.errstate(over="raise")):
            before["b"] = _thread_state()
            assert a_in.wait(5)
            with shared:
                inside["b"] = _thread_state()
                b_in.set()
                assert a_out.wait(5)
            after["b"] = _thread_state()

    _run_threads(lambda k: (a, b)[k](), 2)
    assert after == before
    assert inside["a"] != before["a"] or name in ("enable_grad", "detect_anomaly(False)")
    assert getattr(shared, "prev", {}) == {}  # nothing left behind per thread


@pytest.mark.parametrize("name", list(_MANAGERS))
def test_one_manager_object_entered_again_inside_its_block_restores_each_level(name):
    # main: the inner block of detect_anomaly replaced the object's errstate, whose token the
    # outer block's end then reset a second time (RuntimeError, anomaly mode left on).
    before = _thread_state()
    m = _MANAGERS[name]()
    with m:
        inside = _thread_state()
        with m:
            assert _thread_state() == inside
        assert _thread_state() == inside
    assert _thread_state() == before
    assert getattr(m, "prev", {}) == {}


@pytest.mark.parametrize("name", list(_MANAGERS))
def test_an_interrupt_inside_a_manager_block_restores_the_thread_state(name):
    before = _thread_state()
    with ad.set_grad_enabled(False), ad.anomaly_scope("outer"):  # restored to these too
        outer = _thread_state()
        m = _MANAGERS[name]()
        with pytest.raises(KeyboardInterrupt), m, m:  # one object, entered twice
            raise KeyboardInterrupt
        assert _thread_state() == outer
    assert _thread_state() == before
    assert getattr(m, "prev", {}) == {}


# -- viz.trace: wraps forward process-wide, records per thread ---------------------------


def _wrapped(*modules) -> list[bool]:
    return ["forward" in m.__dict__ for m in modules]


def test_a_trace_entered_again_or_ended_out_of_order_unwraps_every_forward():
    # Each block saved the forward it found and put it back in its own order: the inner block
    # (or the first of two overlapping traces to end) restored a wrapper, and the model kept it
    # for good, appending a record at every later call (main: both left wrapped).
    import nn
    from autodiff import viz
    from autodiff.viz.trace import _TRACES

    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    t = viz.trace(model)
    with t:
        outer = _TRACES[model]  # (records(model) gives the last trace's: the inner one's)
        with t:
            model(ad.ones((1, 2)))
        model(ad.ones((3, 2)))  # the outer block still records
        assert [r.in_shapes[0][0] for r in outer] == [1, 1, 3, 3]
        assert [r.in_shapes[0][0] for r in viz.trace.records(model)] == [1, 1]
    assert _wrapped(*model) == [False, False]
    first, second = viz.trace(model), viz.trace(model)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    model(ad.ones((4, 2)))  # the second still records
    assert [r.in_shapes for r in viz.trace.records(model)] == [[(4, 2)], [(4, 2)]]
    second.__exit__(None, None, None)
    assert _wrapped(*model) == [False, False]
    with pytest.raises(KeyboardInterrupt), t:
        raise KeyboardInterrupt
    assert _wrapped(*model) == [False, False]


def test_traces_in_two_threads_through_a_shared_layer_record_each_thread_own_calls():
    # main: the first trace to end unwrapped the shared layer under the other (whose later
    # call went unrecorded), whose end then put the first's wrapper back for good.
    import nn
    from autodiff import viz

    shared = nn.Linear(2, 2)
    models = [nn.Sequential(shared, nn.Tanh()), nn.Sequential(shared)]
    a_in, b_in, a_ran, b_ran, a_out = (threading.Event() for _ in range(5))

    def a() -> None:
        with viz.trace(models[0]):
            a_in.set()
            assert b_in.wait(5)
            models[0](ad.ones((3, 2)))
            a_ran.set()
            assert b_ran.wait(5)
        a_out.set()

    def b() -> None:
        assert a_in.wait(5)
        with viz.trace(models[1]):
            b_in.set()
            assert a_ran.wait(5)
            models[1](ad.ones((5, 2)))
            b_ran.set()
            assert a_out.wait(5)
            models[1](ad.ones((7, 2)))

    _run_threads(lambda k: (a, b)[k](), 2)
    seen = [[(r.path, r.in_shapes[0][0]) for r in viz.trace.records(m)] for m in models]
    assert seen == [[("0", 3), ("1", 3)], [("0", 5), ("0", 7)]]
    assert _wrapped(shared, models[0][1]) == [False, False]


# -- an interrupt inside the other managers: nn's hook handles, module scopes, checkpoint ----


def test_an_interrupt_inside_a_hook_handle_block_removes_the_hook():
    import nn

    layer, seen = nn.Identity(), []
    with pytest.raises(KeyboardInterrupt), \
            layer.register_forward_hook(lambda m, args, out: seen.append(out.shape)):
        layer(ad.ones(2))
        raise KeyboardInterrupt
    layer(ad.ones(3))
    assert seen == [(2,)] and not layer._forward_hooks


def test_an_interrupt_in_a_module_under_anomaly_mode_leaves_no_scope_behind():
    import nn
    from autodiff.anomaly import current_scope
    from nn.module import _CALLS

    class Stop(nn.Module):
        def forward(self, x):
            assert current_scope() == "module 1 (Stop)"
            raise KeyboardInterrupt

    model = nn.Sequential(nn.Tanh(), Stop())
    with ad.detect_anomaly():
        with pytest.raises(KeyboardInterrupt):
            model(ad.ones(2))
        assert current_scope() is None
        assert _CALLS.paths is None  # the next call maps its own model's paths
    assert _thread_state()[:2] == (True, False)


def test_an_interrupt_while_checkpoint_recomputes_restores_grad_mode_and_generator():
    calls = []

    def f(t):
        calls.append(1)
        if len(calls) == 2:  # the recomputation, in the backward
            raise KeyboardInterrupt
        return ad.tanh(t) * ad.rand(2)

    x = ad.tensor([0.5, -1.0], requires_grad=True)
    ad.manual_seed(0)
    y = ad.checkpoint.checkpoint(f, x).sum()
    state = ad.get_rng_state()
    with ad.no_grad(), pytest.raises(KeyboardInterrupt):
        y.backward()
    assert ad.is_grad_enabled() and ad.get_rng_state() == state
