"""Reading Slack's deliveries: where a click came from."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DM_CHANNEL", "ActionPlace"]

DM_CHANNEL = re.compile(r"^D[A-Z0-9]+$")


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

    def reply_thread(self) -> str | None:
        """Answers to a click go under the clicked message: in its thread, or starting one
        (except in a direct message with the bot, where a thread would only hide them)."""
        if self.thread_ts:
            return self.thread_ts
        if DM_CHANNEL.match(self.channel):
            return None
        return self.message_ts
