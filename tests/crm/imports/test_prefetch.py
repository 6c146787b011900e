"""The reader thread: items in order, its errors raised in the consumer, stopped early cleanly."""

import threading

import pytest

from crm.imports.prefetch import Prefetch


def test_items_arrive_in_order():
    assert list(Prefetch(range(10))) == list(range(10))


def test_an_error_in_the_thread_is_raised_in_the_consumer():
    def failing():
        yield 1
        raise ValueError("bad row")

    prefetch = Prefetch(failing())
    with pytest.raises(ValueError, match="bad row"):
        list(prefetch)
    prefetch.close()


def test_close_stops_the_source_in_its_own_thread():
    closed_in = []

    def source():
        try:
            yield from range(1000)
        finally:
            closed_in.append(threading.current_thread())

    prefetch = Prefetch(source())
    assert next(iter(prefetch)) == 0
    prefetch.close()
    assert closed_in
    assert closed_in[0] is not threading.current_thread()
