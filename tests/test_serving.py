"""Sharing one server among many sessions: torch threads and the fair share of live training."""
import threading
import time

import torch

from gan.serving import FairShare, Turns, configure_torch


def test_configure_torch_sets_the_thread_count():
    before = torch.get_num_threads()
    try:
        configure_torch(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_the_training_share_is_split_among_the_sessions_asking():
    share = FairShare(alone=0.6, shared=0.2, slots=2, intervals=(0.2, 0.4), crowd=3, window=60)
    assert share.slice("a", per_second=2) == 0.3  # alone: the whole share, in two turns a second
    assert share.slice("b", per_second=2) == 0.15  # two sessions: half each
    assert share.slice("a", per_second=2) == 0.15
    assert share.slice("c", per_second=2) == 0.2 / 6  # a crowd: the smaller share, a third each


def test_a_lone_session_gets_the_large_share_back_when_the_crowd_leaves():
    share = FairShare(alone=0.8, shared=0.1, slots=2, intervals=(0.2, 0.4), crowd=2, window=0.05)
    share.slice("a", per_second=1)
    assert share.slice("b", per_second=1) == 0.05
    time.sleep(0.1)
    assert share.slice("b", per_second=1) == 0.8


def test_a_session_that_stopped_asking_no_longer_counts():
    share = FairShare(alone=1.0, shared=0.5, slots=2, intervals=(0.2, 0.4), crowd=4, window=0.05)
    share.slice("gone", per_second=1)
    time.sleep(0.1)
    assert share.slice("here", per_second=1) == 1.0


def test_updates_slow_down_only_in_a_crowd_and_speed_up_when_it_leaves():
    share = FairShare(alone=1.0, shared=0.5, slots=2, intervals=(0.2, 0.4), crowd=3, window=0.1)
    assert share.interval() == 0.2  # nobody training: a lone lecturer gets 5 updates a second
    share.slice("a", per_second=5)
    share.slice("b", per_second=5)
    assert share.interval() == 0.2
    share.slice("c", per_second=5)
    assert share.interval() == 0.4  # three training: every new run updates 2.5 times a second
    time.sleep(0.15)
    assert share.interval() == 0.2


def test_at_most_slots_sessions_hold_a_turn_at_once():
    share = FairShare(alone=1.0, shared=0.5, slots=2, intervals=(0.2, 0.4), crowd=4)
    inside, peak, lock = 0, 0, threading.Lock()

    def session(name: str) -> None:
        nonlocal inside, peak
        with share.turn(name, per_second=1):
            with lock:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=session, args=(f"s{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2


def test_a_turn_given_up_goes_to_the_one_waiting_not_back_to_the_one_that_gave_it_up():
    """threading.Semaphore lets the leaving thread take its slot straight back, ahead of a waiting one."""
    turns, order = Turns(1), []

    def waiter() -> None:
        with turns:
            order.append("waiter")
            time.sleep(0.05)

    turns.__enter__()
    thread = threading.Thread(target=waiter)
    thread.start()
    while not turns.waiting:
        time.sleep(0.001)
    turns.__exit__(None, None, None)
    with turns:  # asks again at once: waits behind the one who asked first
        order.append("again")
    thread.join()
    assert order == ["waiter", "again"]


def test_turns_are_served_in_the_order_they_were_asked_for():
    turns, order = Turns(1), []

    def session(name: str) -> None:
        with turns:
            order.append(name)

    turns.__enter__()
    threads = []
    for name in "abcd":
        threads.append(threading.Thread(target=session, args=(name,)))
        threads[-1].start()
        while len(turns.waiting) < len(threads):
            time.sleep(0.001)
    turns.__exit__(None, None, None)
    for t in threads:
        t.join()
    assert order == list("abcd")
