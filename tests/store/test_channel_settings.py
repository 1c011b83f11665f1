"""Each channel's settings and each workspace's allow-list, on every backend
(``tests.store.backends``): the defaults until a manager changes them, per platform and
channel (or workspace), kept across reopening."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.store.protocol import ChannelSettingsStore, Store
from bot.store.sqlite import SQLiteStore, migrate
from bot.store.values import AllowedChannel, AnswerChannels, ChannelSettings
from tests.digest.support import utc
from tests.store.backends import Backend, backend, store

__all__ = ["backend", "store"]  # the fixtures, imported for pytest to see

NOW = utc(2024, 3, 1, 9)
HOSTILE = ["", "x" * 50_000, "C1\x07\n'; DROP TABLE channel_settings; --", "@everyone", "<!channel>"]


def test_a_channel_nobody_configured_has_private_answers_and_no_auto_answer(store: Store) -> None:
    assert isinstance(store, ChannelSettingsStore)
    assert store.channel_settings("discord", "123") == ChannelSettings(
        private_answers=True, auto_answer=False
    )


def test_settings_are_per_platform_and_channel_and_replaced_whole(store: Store) -> None:
    store.set_channel_settings("discord", "123", ChannelSettings(private_answers=False), now=NOW)
    assert store.channel_settings("discord", "123") == ChannelSettings(private_answers=False)
    assert store.channel_settings("slack", "123") == ChannelSettings()
    assert store.channel_settings("discord", "124") == ChannelSettings()
    store.set_channel_settings("discord", "123", ChannelSettings(private_answers=True), now=NOW)
    assert store.channel_settings("discord", "123") == ChannelSettings()


def test_auto_answer_is_kept_beside_private_answers(store: Store) -> None:
    both = ChannelSettings(private_answers=False, auto_answer=True)
    store.set_channel_settings("slack", "C1", both, now=NOW)
    assert store.channel_settings("slack", "C1") == both
    store.set_channel_settings("slack", "C1", ChannelSettings(auto_answer=True), now=NOW)
    assert store.channel_settings("slack", "C1") == ChannelSettings(private_answers=True, auto_answer=True)
    assert store.channel_settings("discord", "C1") == ChannelSettings()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_any_channel_id_is_stored_as_given(store: Store, hostile: str) -> None:
    store.set_channel_settings("discord", hostile, ChannelSettings(private_answers=False), now=NOW)
    assert store.channel_settings("discord", hostile) == ChannelSettings(private_answers=False)
    assert store.channel_settings("discord", "other") == ChannelSettings()


def test_a_workspace_nobody_configured_answers_everywhere(store: Store) -> None:
    listed = store.answer_channels("slack", "T1")
    assert listed == AnswerChannels() and listed.everywhere and listed.admits("C-anything")


def test_the_allow_list_is_per_platform_and_workspace_in_the_order_given(store: Store) -> None:
    chosen = AnswerChannels((AllowedChannel("C2", "policy"), AllowedChannel("C1", "general")))
    store.set_answer_channels("slack", "T1", chosen, now=NOW)
    listed = store.answer_channels("slack", "T1")
    assert listed == chosen
    assert listed.admits("C1") and listed.admits("C2") and not listed.admits("C3")
    assert store.answer_channels("slack", "T2") == AnswerChannels()
    assert store.answer_channels("discord", "T1") == AnswerChannels()


def test_the_allow_list_is_replaced_whole_and_emptied_by_an_empty_one(store: Store) -> None:
    store.set_answer_channels("discord", "G", AnswerChannels((AllowedChannel("1", "a"),)), now=NOW)
    store.set_answer_channels("discord", "G", AnswerChannels((AllowedChannel("2", "b"),)), now=NOW)
    assert store.answer_channels("discord", "G") == AnswerChannels((AllowedChannel("2", "b"),))
    store.set_answer_channels("discord", "G", AnswerChannels(), now=NOW)
    assert store.answer_channels("discord", "G").everywhere


def test_a_channel_given_twice_is_allowed_once(store: Store) -> None:
    twice = AnswerChannels((AllowedChannel("1", "a"), AllowedChannel("2", "b"), AllowedChannel("1", "a")))
    store.set_answer_channels("discord", "G", twice, now=NOW)
    assert store.answer_channels("discord", "G") == AnswerChannels(
        (AllowedChannel("1", "a"), AllowedChannel("2", "b"))
    )


@pytest.mark.parametrize("hostile", HOSTILE)
def test_any_channel_id_and_name_on_the_allow_list_is_stored_as_given(store: Store, hostile: str) -> None:
    listed = AnswerChannels((AllowedChannel(hostile, hostile),))
    store.set_answer_channels("slack", hostile, listed, now=NOW)
    assert store.answer_channels("slack", hostile) == listed
    assert store.answer_channels("slack", "T-other").everywhere


def test_settings_and_allow_lists_survive_reopening(backend: Backend) -> None:
    allowed = AnswerChannels((AllowedChannel("9", "briefings"),))
    with backend.open() as first:
        first.set_channel_settings(
            "discord", "9", ChannelSettings(private_answers=False, auto_answer=True), now=NOW
        )
        first.set_answer_channels("discord", "G", allowed, now=NOW)
    with backend.open() as again:
        assert again.channel_settings("discord", "9") == ChannelSettings(
            private_answers=False, auto_answer=True
        )
        assert again.answer_channels("discord", "G") == allowed


def test_a_channel_configured_before_auto_answer_existed_keeps_its_choice(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, target=7)
        conn.execute(
            "INSERT INTO channel_settings (platform, channel, private_answers, updated_at)"
            " VALUES ('slack', 'C1', 0, '2024-01-01T00:00:00.000000Z')"
        )
    finally:
        conn.close()
    with SQLiteStore(path) as upgraded:
        assert upgraded.channel_settings("slack", "C1") == ChannelSettings(
            private_answers=False, auto_answer=False
        )
        assert upgraded.answer_channels("slack", "T1").everywhere
