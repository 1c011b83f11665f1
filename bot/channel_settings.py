"""`/nato settings`: a channel's settings shown and changed, and the workspace's allow-list
applied to every request.

The grammar (``bot.grammar.settings``) reads the command into a ``Settings`` value; the
adapter finds the channels it names (only the platform knows which channels exist) and
whether the user is a manager; this module checks the rest, saves the change whole or not
at all, and answers with the settings as they now are, one line each, as
`/nato digest list` lists subscriptions.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.grammar.intents import ChannelRef, Settings
from bot.messages import Reply, Request
from bot.store.protocol import ChannelSettingsStore
from bot.store.values import AllowedChannel, AnswerChannels, ChannelSettings

__all__ = ["MANAGERS", "change_settings", "elsewhere", "show_settings"]

_log = logging.getLogger(__name__)

MANAGERS = {
    "slack": "workspace admins and the people on this bot's admin list",
    "discord": "members with the Manage Channels permission",
}
TITLE = "Settings in this channel"


def change_settings(
    store: ChannelSettingsStore | None, request: Request, intent: Settings, *, now: datetime
) -> Reply:
    """Apply ``intent`` to the request's channel (and workspace), or say why not; either way
    the reply lists the settings as they are."""
    if not request.user_is_manager:
        who = MANAGERS.get(request.platform, "channel managers")
        return Reply(
            f"Sorry, only people who can manage this channel ({who}) can see or change its "
            "settings. Ask one of them.",
            ephemeral=True,
            kind="refusal",
        )
    if request.direct or not request.workspace:
        return _notice(
            "Settings belong to a channel: run `/nato settings` in the channel you want to change. "
            "Here, in a direct message, I always answer privately."
        )
    if store is None:
        return _notice("Settings aren't kept on this bot (it has no database).")
    unknown = [ref for ref in intent.allow or () if not ref.id]
    if unknown:
        return Reply(
            f"I can't find the channel {unknown[0].shown()} in this workspace (or I can't see it), "
            "so nothing was changed. Pick channels from the list as you type #, e.g. "
            "`/nato settings allow #briefings`.",
            ephemeral=True,
            kind="usage",
        )
    before = store.channel_settings(request.platform, request.channel)
    settings = ChannelSettings(
        private_answers=before.private_answers if intent.private_answers is None else intent.private_answers,
        auto_answer=before.auto_answer if intent.auto_answer is None else intent.auto_answer,
    )
    if settings != before:
        store.set_channel_settings(request.platform, request.channel, settings, now=now)
    if intent.allow is not None:
        listed = AnswerChannels(tuple(_allowed(ref) for ref in intent.allow))
        store.set_answer_channels(request.platform, request.workspace, listed, now=now)
    allowed = store.answer_channels(request.platform, request.workspace)
    if intent.changes:
        _log.info(
            "channel settings changed",
            extra={
                "event": "settings_changed",
                "platform": request.platform,
                "channel": request.channel,
                "private_answers": settings.private_answers,
                "auto_answer": settings.auto_answer,
                "allowed": len(allowed.channels),
            },
        )
    text = ("Saved.\n" if intent.changes else "") + _listing(settings, allowed, request.channel)
    return Reply(text, title=TITLE, ephemeral=True, kind="info")


def show_settings(store: ChannelSettingsStore, request: Request) -> str:
    """The listing alone, for tests and the console."""
    return _listing(
        store.channel_settings(request.platform, request.channel),
        store.answer_channels(request.platform, request.workspace),
        request.channel,
    )


def elsewhere(allowed: AnswerChannels) -> Reply:
    """The one polite private line for a request in a channel not on the allow-list."""
    names = ", ".join(_shown(c) for c in allowed.channels)
    return Reply(
        f"I don't answer in this channel. Ask me in {names}, or in a direct message.",
        ephemeral=True,
        kind="elsewhere",
    )


def _listing(settings: ChannelSettings, allowed: AnswerChannels, channel: str) -> str:
    answers = (
        "`answers` private: a `/nato` answer is shown only to the asker, who can share it"
        if settings.private_answers
        else "`answers` public: `/nato` answers are posted in the channel (declines stay private)"
    )
    auto = (
        "`auto-answer` on: questions posted here without a mention get an answer in a thread, "
        "when the notes answer them with confidence"
        if settings.auto_answer
        else "`auto-answer` off: questions here need a mention or `/nato`"
    )
    if allowed.everywhere:
        where = "`allow` all: I answer in every channel of this workspace I am in"
    else:
        names = ", ".join(_shown(c) for c in allowed.channels)
        where = f"`allow` {names}: the only channels of this workspace I answer in"
        if not allowed.admits(channel):
            where += " (not this one: here only `/nato settings` works)"
    return "\n".join(
        [
            f"• {answers}",
            f"• {auto}",
            f"• {where}",
            "Change one with e.g. `/nato settings auto-answer on`; `/nato help settings` explains them.",
        ]
    )


def _allowed(ref: ChannelRef) -> AllowedChannel:
    return AllowedChannel(ref.id, ref.name)


def _shown(channel: AllowedChannel) -> str:
    return f"#{channel.name or channel.id}"


def _notice(text: str) -> Reply:
    return Reply(text, ephemeral=True, kind="info")
