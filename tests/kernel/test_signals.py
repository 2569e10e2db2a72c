"""exit_on_signals: SIGTERM and SIGINT become KeyboardInterrupt once; handlers come back."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from pybpf.kernel.signals import SignalExit, exit_on_signals, flag_on_signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_unwinds_the_block_as_keyboard_interrupt(signum):
    before = signal.getsignal(signum)
    unwound = []
    with pytest.raises(KeyboardInterrupt) as info:
        with exit_on_signals(signal.SIGINT, signal.SIGTERM):
            try:
                os.kill(os.getpid(), signum)
                for _ in range(1000):  # the handler runs between bytecodes
                    pass
            finally:
                unwound.append(True)
    assert isinstance(info.value, SignalExit) and info.value.signum == signum
    assert unwound == [True]
    assert signal.getsignal(signum) is before


def test_a_second_signal_during_cleanup_is_ignored():
    with pytest.raises(SignalExit):
        with exit_on_signals(signal.SIGTERM):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):
                    pass
            finally:
                os.kill(os.getpid(), signal.SIGTERM)  # must not cut this finally short
                for _ in range(1000):
                    pass
                cleaned = True
    assert cleaned


def test_handlers_are_restored_without_a_signal():
    before = signal.getsignal(signal.SIGTERM)
    with exit_on_signals():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_only_the_main_thread_may_use_it():
    errors = []

    def worker():
        try:
            with exit_on_signals():
                pass
        except RuntimeError as err:
            errors.append(err)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert errors and "main thread" in str(errors[0])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_flag_on_signals_records_the_signal_and_raises_nothing(signum):
    before = signal.getsignal(signum)
    with flag_on_signals() as received:
        os.kill(os.getpid(), signum)
        os.kill(os.getpid(), signum)
        total = sum(range(1000))    # bytecodes after the kill: the handler has run
    assert received == [signum, signum] and total == 499500
    assert signal.getsignal(signum) is before


def test_flag_on_signals_outside_the_main_thread_leaves_the_main_threads_handler():
    """In another thread it sets and restores nothing and raises nothing: a signal sent
    while that thread is inside its block still reaches the main thread's handler, and the
    thread's own list stays empty."""
    seen: dict[str, object] = {}
    with flag_on_signals(signal.SIGTERM) as main_received:
        main_handler = signal.getsignal(signal.SIGTERM)

        def worker() -> None:
            try:
                with flag_on_signals(signal.SIGTERM) as received:
                    seen["handler inside"] = signal.getsignal(signal.SIGTERM)
                    os.kill(os.getpid(), signal.SIGTERM)
                    seen["received"] = received
                seen["handler after"] = signal.getsignal(signal.SIGTERM)
            except BaseException as err:  # noqa: BLE001 - the assertion below shows it
                seen["error"] = err

        t = threading.Thread(target=worker)
        t.start()
        t.join()
        for _ in range(1000):   # the main thread runs its handler at its next bytecodes
            if main_received:
                break
            time.sleep(0.001)
    assert "error" not in seen, seen
    assert seen["handler inside"] is main_handler and seen["handler after"] is main_handler
    assert seen["received"] == [] and main_received == [signal.SIGTERM]
