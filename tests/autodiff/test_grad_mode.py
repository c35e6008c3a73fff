"""Grad mode is thread-local and works as context manager and decorator."""

import threading

import autodiff as ad


def test_no_grad_records_nothing():
    x = ad.ones(2, requires_grad=True)
    with ad.no_grad():
        assert not ad.is_grad_enabled()
        y = x * 2
        with ad.enable_grad():
            z = x * 2
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


def test_decorators():
    @ad.no_grad()
    def f(t):
        return t * 2

    @ad.enable_grad()
    def g(t):
        return t * 2

    x = ad.ones(2, requires_grad=True)
    assert not f(x).requires_grad
    with ad.no_grad():
        assert g(x).requires_grad
    with ad.set_grad_enabled(False):
        assert not (x * 1).requires_grad


def test_grad_mode_is_thread_local():
    results = {}
    entered = threading.Event()
    release = threading.Event()

    def worker():
        with ad.no_grad():
            entered.set()
            release.wait(5)
            results["worker"] = ad.is_grad_enabled()

    t = threading.Thread(target=worker)
    t.start()
    entered.wait(5)
    results["main"] = ad.is_grad_enabled()
    x = ad.ones(1, requires_grad=True)
    results["main_records"] = (x * 2).requires_grad
    release.set()
    t.join()
    assert results == {"worker": False, "main": True, "main_records": True}


def test_a_new_thread_starts_with_grad_enabled_whatever_the_caller_set():
    seen = {}

    def worker():
        x = ad.ones(1, requires_grad=True)
        seen["enabled"] = ad.is_grad_enabled()
        seen["records"] = (x * 2).requires_grad

    with ad.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert not ad.is_grad_enabled()
    assert seen == {"enabled": True, "records": True}


def test_set_grad_enabled_as_a_decorator_and_restores_on_error():
    @ad.set_grad_enabled(False)
    def f(t):
        return t * 2

    x = ad.ones(2, requires_grad=True)
    assert not f(x).requires_grad and ad.is_grad_enabled()
    try:
        with ad.no_grad():
            raise KeyError("boom")
    except KeyError:
        pass
    assert ad.is_grad_enabled()


def test_set_grad_enabled_called_as_a_statement_takes_effect_at_once():
    try:
        ad.set_grad_enabled(False)  # as torch.set_grad_enabled(False) at the top of a script
        assert not ad.is_grad_enabled()
        assert not (ad.ones(1, requires_grad=True) * 2).requires_grad
        ad.set_grad_enabled(True)
        assert ad.is_grad_enabled()
    finally:
        ad.set_grad_enabled(True)


def test_set_grad_enabled_blocks_restore_the_mode_from_before_the_call():
    with ad.no_grad():
        with ad.set_grad_enabled(True):
            assert ad.is_grad_enabled()
        assert not ad.is_grad_enabled()
    mode = ad.set_grad_enabled(False)
    with mode:
        with mode:  # the same object entered again inside
            assert not ad.is_grad_enabled()
        assert not ad.is_grad_enabled()
    assert ad.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_changes_nothing_until_called():
    @ad.set_grad_enabled(False)
    def f():
        return ad.is_grad_enabled()

    assert ad.is_grad_enabled()
    assert f() is False and ad.is_grad_enabled()
