"""``RecentEvents`` and ``RecentTurns``, what a bot without a database remembers in memory."""

from __future__ import annotations

from datetime import timedelta

from bot.conversation import TURNS_KEPT, ThreadKey, ThreadMemory, Turn
from bot.store.protocol import EventMemory
from bot.store.recent import RecentEvents, RecentTurns

TTL = timedelta(seconds=60)


def test_an_event_is_new_once_until_it_expires() -> None:
    now = [1000.0]
    recent = RecentEvents(clock=lambda: now[0])
    assert isinstance(recent, EventMemory)
    assert recent.remember_event("slack-event", "Ev1", TTL)
    assert not recent.remember_event("slack-event", "Ev1", TTL)
    assert recent.remember_event("slack-signature", "Ev1", TTL)
    now[0] += 59
    assert not recent.remember_event("slack-event", "Ev1", TTL)
    now[0] += 1
    assert recent.remember_event("slack-event", "Ev1", TTL)


def test_a_short_lived_key_expires_even_behind_a_long_lived_one() -> None:
    now = [0.0]
    recent = RecentEvents(clock=lambda: now[0])
    assert recent.remember_event("slack-event", "long", timedelta(hours=1))
    assert recent.remember_event("slack-signature", "short", timedelta(seconds=1))
    now[0] = 2
    assert recent.remember_event("slack-signature", "short", timedelta(seconds=1))
    assert not recent.remember_event("slack-event", "long", timedelta(hours=1))


def test_a_flood_of_distinct_keys_is_bounded() -> None:
    recent = RecentEvents(size=100, clock=lambda: 0.0)
    for i in range(1000):
        assert recent.remember_event("slack-event", f"Ev{i}", TTL)
    assert not recent.remember_event("slack-event", "Ev999", TTL)  # the newest are kept
    assert recent.remember_event("slack-event", "Ev0", TTL)  # the oldest went first


# -- RecentTurns, the in-memory ThreadMemory -------------------------------------------------


def _turn(n: int) -> Turn:
    return Turn((f"entry-{n}",), "milestone", f"question {n}")


def test_a_thread_in_memory_gives_its_newest_turns_and_threads_never_mix() -> None:
    recent = RecentTurns(clock=lambda: 0.0)
    assert isinstance(recent, ThreadMemory)
    thread = ThreadKey("console", "console", "s1")
    for n in range(TURNS_KEPT + 3):
        recent.remember_turn(thread, _turn(n), TTL)
    recent.remember_turn(ThreadKey("console", "console", "s2"), _turn(99), TTL)
    assert recent.recent_turns(thread, limit=2) == (_turn(TURNS_KEPT + 1), _turn(TURNS_KEPT + 2))
    assert len(recent.recent_turns(thread, limit=100)) == TURNS_KEPT
    assert recent.recent_turns(ThreadKey("console", "console", "s2")) == (_turn(99),)
    assert recent.recent_turns(ThreadKey("slack", "console", "s1")) == ()


def test_a_thread_in_memory_expires() -> None:
    now = [0.0]
    recent = RecentTurns(clock=lambda: now[0])
    thread = ThreadKey("console", "console", "s1")
    recent.remember_turn(thread, _turn(1), TTL)
    now[0] = 30
    recent.remember_turn(thread, _turn(2), TTL)
    now[0] = 60
    assert recent.recent_turns(thread) == (_turn(2),)
    now[0] = 90
    assert recent.recent_turns(thread) == ()


def test_a_flood_of_threads_is_bounded() -> None:
    recent = RecentTurns(size=100, clock=lambda: 0.0)
    for i in range(1000):
        recent.remember_turn(ThreadKey("slack", "C1", f"T{i}"), _turn(i), TTL)
    assert recent.recent_turns(ThreadKey("slack", "C1", "T999")) == (_turn(999),)
    assert recent.recent_turns(ThreadKey("slack", "C1", "T0")) == ()
