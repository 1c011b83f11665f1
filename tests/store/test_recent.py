"""``RecentEvents``, the in-memory ``EventMemory`` of a bot without a database."""

from __future__ import annotations

from datetime import timedelta

from bot.store.protocol import EventMemory
from bot.store.recent import RecentEvents

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
