"""The app manifest grants what the adapter uses, so installing is one paste."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

import adapters.slack

MANIFEST = Path(adapters.slack.__file__).with_name("manifest.yaml")

# Every Web API method the adapter calls with the bot token, and the scope it needs.
METHOD_SCOPES: dict[str, str | tuple[str, ...] | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.postEphemeral": "chat:write",
    # One scope per kind of conversation it is asked about (a digest subscription's channel).
    # Is the bot part of a thread? (a reply without a mention)
    "conversations.replies": ("channels:history", "groups:history"),
    # Did a digest part in flight when its process died reach the channel? (a takeover)
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "users.info": "users:read",
    "views.open": None,
    "assistant.threads.setSuggestedPrompts": "assistant:write",
    "assistant.threads.setStatus": "assistant:write",
    "assistant.threads.setTitle": "assistant:write",
    "views.publish": None,
}
# The events the adapter listens to, with the scope each subscription needs.
EVENT_SCOPES: dict[str, str | tuple[str, ...] | None] = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_home_opened": None,
    "assistant_thread_started": "assistant:write",
    "assistant_thread_context_changed": "assistant:write",
}


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_manifest_declares_the_nato_command_unescaped() -> None:
    [command] = manifest()["features"]["slash_commands"]
    assert command["command"] == "/nato"
    # Raw text: the adapter decodes Slack's markup itself and escapes every echo.
    assert command["should_escape"] is False
    assert len(command["description"]) <= 100


def test_manifest_subscribes_to_the_events_the_adapter_handles() -> None:
    settings = manifest()["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert manifest()["features"]["app_home"]["home_tab_enabled"] is True


def test_manifest_scopes_cover_every_method_and_event_and_nothing_more() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = {
        scope
        for s in (*METHOD_SCOPES.values(), *EVENT_SCOPES.values())
        for scope in ((s,) if isinstance(s, str) else s or ())
    }
    # commands for /nato; chat:write.public so digests reach public channels uninvited.
    assert scopes == needed | {"commands", "chat:write.public"}


def test_long_description_meets_slacks_minimum() -> None:
    assert 174 <= len(manifest()["display_information"]["long_description"]) <= 4000
