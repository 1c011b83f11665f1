"""Reading Slack's deliveries: who asked where (and the ``Request`` built from it), and
where a click came from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.messages import Request

__all__ = ["DM_CHANNEL", "PLATFORM", "ActionPlace", "Asker"]

PLATFORM = "slack"
DM_CHANNEL = re.compile(r"^D[A-Z0-9]+$")


@dataclass(frozen=True)
class Asker:
    """Who asked, and where: what every Slack delivery says about its sender."""

    user: str
    channel: str
    workspace: str

    @classmethod
    def of_command(cls, body: Mapping[str, Any]) -> Asker:
        """From a slash command's payload."""
        return cls(
            user=str(body.get("user_id", "")),
            channel=str(body.get("channel_id", "")),
            workspace=str(body.get("team_id", "")),
        )

    @classmethod
    def of_message(cls, event: Mapping[str, Any], body: Mapping[str, Any]) -> Asker:
        """From a mention's or a direct message's event."""
        return cls(
            user=str(event.get("user", "")),
            channel=str(event.get("channel", "")),
            workspace=str(body.get("team_id") or event.get("team") or ""),
        )

    def request(self, text: str, *, is_command: bool, thread: str | None = None) -> Request:
        """The core's ``Request``: the Slack adapter builds every one here. Whether the user
        may manage digests is filled in later, and only for digest commands (it costs a
        ``users.info`` call)."""
        return Request(
            platform=PLATFORM,
            user=self.user,
            channel=self.channel,
            text=text,
            is_command=is_command,
            workspace=self.workspace,
            thread=thread,
            # A DM channel, or the user's own id: App Home's questions answered in their DMs.
            direct=bool(DM_CHANNEL.match(self.channel)) or self.channel == self.user,
        )


@dataclass(frozen=True)
class ActionPlace:
    """Where a button was clicked, read from a block_actions payload."""

    user: str
    channel: str
    workspace: str
    ephemeral: bool
    message_ts: str | None
    thread_ts: str | None
    has_response_url: bool

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> ActionPlace:
        container = body.get("container") or {}
        message = body.get("message") or {}
        return cls(
            user=str((body.get("user") or {}).get("id", "")),
            channel=str((body.get("channel") or {}).get("id") or container.get("channel_id") or ""),
            workspace=str(
                (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or ""
            ),
            ephemeral=bool(container.get("is_ephemeral")),
            message_ts=message.get("ts") or container.get("message_ts"),
            thread_ts=message.get("thread_ts") or container.get("thread_ts"),
            has_response_url=bool(body.get("response_url")),
        )

    @property
    def asker(self) -> Asker:
        return Asker(self.user, self.channel, self.workspace)

    def reply_thread(self) -> str | None:
        """Answers to a click go under the clicked message: in its thread, or starting one
        (except in a direct message with the bot, where a thread would only hide them)."""
        if self.thread_ts:
            return self.thread_ts
        if DM_CHANNEL.match(self.channel):
            return None
        return self.message_ts
