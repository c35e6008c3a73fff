"""Random draws of checkpoint and vmap(randomness="same") with several threads: the generator
is shared by the process, so a checkpointed function (and each vmap sample) draws from its
thread's own copy (creation.thread_generator): the recomputation replays the first run's
numbers whatever the other threads draw, and no other thread's draws are rewound."""

import threading

import numpy as np

import autodiff as ad
from autodiff.checkpoint import checkpoint


def test_first_run_interleaved_with_another_threads_draws():
    # main: the first run drew from the shared generator between the other thread's draws,
    # the recomputation replayed the sequence without them: another mask, a silent wrong grad
    ad.manual_seed(0)
    go, done = threading.Event(), threading.Event()
    masks = []

    def f(t):
        m1 = ad.rand(3)
        if not masks:  # first run: the other thread draws between the two draws
            go.set()
            assert done.wait(10)
        m2 = ad.rand(3)
        masks.append((m1.data.copy(), m2.data.copy()))
        return t * m1 * m2

    def other():
        assert go.wait(10)
        ad.rand(5)
        done.set()

    th = threading.Thread(target=other)
    th.start()
    x = ad.tensor(np.ones(3, np.float32), requires_grad=True)
    y = checkpoint(f, x)
    th.join()
    y.sum().backward()
    m1, m2 = masks[0]
    np.testing.assert_array_equal(masks[1][1], m2)
    np.testing.assert_array_equal(x.grad.data, m2 * m1)


def test_recomputation_does_not_rewind_another_threads_draws():
    # main: the recomputation set the shared generator back to the first run's state and
    # restored it after: numbers another thread drew meanwhile were drawn again afterwards
    ad.manual_seed(0)
    go, done = threading.Event(), threading.Event()
    calls, theirs = [], []

    def f(t):
        m = ad.rand(4)
        calls.append(m.data.copy())
        if len(calls) == 2:  # the recomputation: the other thread draws meanwhile
            go.set()
            assert done.wait(10)
        return t * m

    def other():
        assert go.wait(10)
        theirs.append(ad.rand(4).data.copy())
        done.set()

    x = ad.tensor(np.ones(4, np.float32), requires_grad=True)
    y = checkpoint(f, x)
    th = threading.Thread(target=other)
    th.start()
    y.sum().backward()
    th.join()
    np.testing.assert_array_equal(calls[1], calls[0])
    np.testing.assert_array_equal(x.grad.data, calls[0])
    after = ad.rand(4).data
    drawn = [calls[0], theirs[0], after]
    assert len({a.tobytes() for a in drawn}) == 3, drawn  # no number handed out twice


def test_shared_generator_moves_as_after_the_plain_call():
    # single thread: the masks and the generator's state afterwards are the plain call's
    def f(t):
        return t * (ad.rand(*t.shape) > 0.5)

    results = []
    for ck in (False, True):
        ad.manual_seed(7)
        x = ad.tensor(np.arange(1.0, 7.0), requires_grad=True)
        y = checkpoint(f, x) if ck else f(x)
        (y * y).sum().backward()
        results.append((y.data.copy(), x.grad.data.copy(), ad.rand(3).data.copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_nested_checkpoints_replay_their_draws():
    def inner(t):
        return t * ad.rand(*t.shape)

    def outer(t):
        return checkpoint(inner, t * ad.rand(*t.shape)).sin()

    results = []
    for ck in (False, True):
        ad.manual_seed(3)
        x = ad.tensor(np.arange(1.0, 5.0), requires_grad=True)
        y = checkpoint(outer, x) if ck else outer(x)
        y.sum().backward()
        results.append((y.data.copy(), x.grad.data.copy(), ad.rand(2).data.copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_vmap_same_randomness_does_not_rewind_another_threads_draws():
    # main: each sample set the shared generator back to the start: what another thread drew
    # during a sample was drawn again after the vmap
    ad.manual_seed(0)
    go, done = threading.Event(), threading.Event()
    seen, theirs = [], []

    def f(t):
        m = ad.rand(4)
        seen.append(m.data.copy())
        if len(seen) == 2:
            go.set()
            assert done.wait(10)
        return t * m

    def other():
        assert go.wait(10)
        theirs.append(ad.rand(4).data.copy())
        done.set()

    th = threading.Thread(target=other)
    th.start()
    y = ad.vmap(f, randomness="same")(ad.tensor(np.ones((3, 4), np.float32)))
    th.join()
    for s in seen[1:]:
        np.testing.assert_array_equal(s, seen[0])
    np.testing.assert_array_equal(y.data, np.stack(seen))
    after = ad.rand(4).data
    drawn = [seen[0], theirs[0], after]
    assert len({a.tobytes() for a in drawn}) == 3, drawn  # no number handed out twice


def test_manual_seed_inside_a_checkpointed_function():
    # the function's own draws come from the thread's generator: a manual_seed in it must
    # seed that one too (and the shared generator goes on as after the plain call)
    def f(t):
        a = t * ad.rand(*t.shape)
        ad.manual_seed(5)
        return a * ad.rand(*t.shape)

    results = []
    for ck in (False, True):
        ad.manual_seed(1)
        x = ad.tensor(np.arange(1.0, 4.0), requires_grad=True)
        y = checkpoint(f, x) if ck else f(x)
        y.sum().backward()
        results.append((y.data.copy(), x.grad.data.copy(), ad.rand(2).data.copy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
