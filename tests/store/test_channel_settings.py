"""Each channel's settings, on every backend (``tests.store.backends``): the defaults until a
manager changes them, per platform and channel, kept across reopening."""

from __future__ import annotations

import pytest

from bot.store.protocol import ChannelSettingsStore, Store
from bot.store.values import ChannelSettings
from tests.digest.support import utc
from tests.store.backends import Backend, backend, store

__all__ = ["backend", "store"]  # the fixtures, imported for pytest to see

NOW = utc(2024, 3, 1, 9)


def test_a_channel_nobody_configured_has_private_answers(store: Store) -> None:
    assert isinstance(store, ChannelSettingsStore)
    assert store.channel_settings("discord", "123") == ChannelSettings(private_answers=True)


def test_settings_are_per_platform_and_channel_and_replaced_whole(store: Store) -> None:
    store.set_channel_settings("discord", "123", ChannelSettings(private_answers=False), now=NOW)
    assert store.channel_settings("discord", "123") == ChannelSettings(private_answers=False)
    assert store.channel_settings("slack", "123") == ChannelSettings()
    assert store.channel_settings("discord", "124") == ChannelSettings()
    store.set_channel_settings("discord", "123", ChannelSettings(private_answers=True), now=NOW)
    assert store.channel_settings("discord", "123") == ChannelSettings()


@pytest.mark.parametrize(
    "hostile", ["", "x" * 50_000, "C1\x07\n'; DROP TABLE channel_settings; --", "@everyone"]
)
def test_any_channel_id_is_stored_as_given(store: Store, hostile: str) -> None:
    store.set_channel_settings("discord", hostile, ChannelSettings(private_answers=False), now=NOW)
    assert store.channel_settings("discord", hostile) == ChannelSettings(private_answers=False)
    assert store.channel_settings("discord", "other") == ChannelSettings()


def test_settings_survive_reopening(backend: Backend) -> None:
    with backend.open() as first:
        first.set_channel_settings("discord", "9", ChannelSettings(private_answers=False), now=NOW)
    with backend.open() as again:
        assert again.channel_settings("discord", "9") == ChannelSettings(private_answers=False)
