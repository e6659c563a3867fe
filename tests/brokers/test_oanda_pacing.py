"""Pacing for OANDA's per-IP limits (requests and new connections) and the pool sized to the caller's threads.

The limits are checked where OANDA checks them: on the arrival times the fake records, over real sockets.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading

import pytest

from brokers.oanda.pacing import Budget, HostPacer, LocalPacer, default_pacer
from tests.brokers import pacing_worker


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of ``times`` inside one half-open interval [t, t + window)."""
    ordered = sorted(times)
    best = 0
    j = 0
    for i, t in enumerate(ordered):
        j = max(j, i)
        while j < len(ordered) and ordered[j] < t + window:
            j += 1
        best = max(best, j - i)
    return best


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_local_pacer_spreads_a_burst_over_windows():
    clock = FakeClock()
    pacer = LocalPacer(Budget(2, 1.0), Budget(1, 0.5), clock=clock)

    waits = [pacer.reserve_request() for _ in range(5)]
    connects = [pacer.reserve_connection() for _ in range(3)]
    clock.now += 1.5
    later = pacer.reserve_request()

    assert waits == [0.0, 0.0, 1.0, 1.0, 2.0]
    assert connects == [0.0, 0.5, 1.0]
    assert later == pytest.approx(0.5)  # two grants are still reserved at t+2.0


def test_host_pacers_in_one_directory_share_the_budget(tmp_path):
    clock = FakeClock()
    a = HostPacer(tmp_path, requests=Budget(3, 1.0), clock=clock)
    b = HostPacer(tmp_path, requests=Budget(3, 1.0), clock=clock)
    other = HostPacer(tmp_path, name="live", requests=Budget(3, 1.0), clock=clock)

    waits = [p.reserve_request() for p in (a, b, a, b, a, b, a)]
    separate = other.reserve_request()

    assert waits == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0]
    assert separate == 0.0
    assert (tmp_path / "oanda.requests").stat().st_size == 3 * 8  # only the newest `count` grants are kept


def test_host_pacer_recovers_from_a_torn_file_and_a_clock_that_stepped_back(tmp_path):
    clock = FakeClock()
    (tmp_path / "oanda.requests").write_bytes(b"\x01\x02\x03")  # not a whole number of grants
    pacer = HostPacer(tmp_path, requests=Budget(1, 1.0), clock=clock)
    assert pacer.reserve_request() == 0.0

    clock.now -= 86_400  # the wall clock stepped back a day: yesterday's "future" grant must not block
    assert pacer.reserve_request() == 0.0


def test_clients_without_a_pacer_share_the_process_pacer(fake, make_client):
    a = make_client(fake, pacer=None)
    b = make_client(fake, pacer=None)

    assert a._http.pacer is b._http.pacer is default_pacer()


def test_every_new_connection_reserves_from_the_pacer(fake, make_client, sleeps):
    pacer = LocalPacer(Budget(100, 1.0), Budget(1, 10.0))
    clients = [make_client(fake, pacer=pacer) for _ in range(3)]

    for client in clients:
        client.get_account_state()
        client.get_account_state()  # keep-alive: no new connection, no wait

    assert len(fake.connection_times) == 3
    assert sleeps.calls == [pytest.approx(10.0, abs=0.5), pytest.approx(20.0, abs=0.5)]


def test_pool_keeps_at_most_pool_size_connections_for_many_threads(fake, make_client):
    client = make_client(fake, pool_size=2, timeout=(1.0, 10.0))  # no timeout-and-reconnect under load
    fake.inject("latency", method="GET", path="/summary", seconds=0.2, times=100)
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait(10)
            for _ in range(3):
                client.get_account_state()
        except BaseException as e:  # noqa: BLE001 - re-raised in the test thread
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert not errors
    assert fake.count("GET", "/summary") == 18
    assert 1 <= len(fake.connection_times) <= 2  # 6 threads, never a third connection
    adapter = client._http.session.get_adapter(fake.url)
    assert (adapter._pool_maxsize, adapter._pool_block) == (2, True)


@pytest.mark.slow
def test_processes_on_one_host_stay_within_the_shared_budget(fake, tmp_path):
    """Three processes, two clients each, one HostPacer directory: the fake never sees more than the budget
    in any second. The pacer's window has a margin over the 1-second check for loopback jitter."""
    limit, connect_limit = 20, 2
    requests, connections = (limit, 1.25), (connect_limit, 1.25)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = ctx.Event()
    args = (fake.url, fake.token, fake.account_id, str(tmp_path), requests, connections, 2, 6, start)
    procs = [ctx.Process(target=pacing_worker.run, args=(results, *args)) for _ in range(3)]
    for p in procs:
        p.start()
    try:
        start.set()
        waited = [results.get(timeout=60) for _ in procs]
    except queue.Empty:
        pytest.fail("a pacing worker did not finish within 60 s")
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()

    arrivals = [r.at for r in fake.requests if r.path.endswith("/summary")]
    assert all(isinstance(w, float) for w in waited), waited
    assert len(arrivals) == 3 * 2 * 6
    assert len(fake.connection_times) == 3 * 2
    assert most_in_any_window(arrivals, 1.0) <= limit
    assert most_in_any_window(fake.connection_times, 1.0) <= connect_limit
    assert sum(waited) > 0  # 36 requests and 6 connections cannot fit one window: the pacer made them wait


def test_most_in_any_window_counts_half_open_windows():
    assert most_in_any_window([0.0, 0.5, 0.99, 1.0, 1.2], 1.0) == 4  # [0.5, 1.5)
    assert most_in_any_window([0.0, 1.0, 2.0], 1.0) == 1
    assert most_in_any_window([], 1.0) == 0
