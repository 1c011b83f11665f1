"""Discord: the `/nato` slash commands, @mentions and DMs, buttons and scheduled digests.

Like every adapter it only translates. A slash command, a mention or a DM becomes a
``Request`` for ``Bot.dispatch``; the ``Reply`` becomes embeds (answer, source and "as of"
footer) or plain text, split within Discord's limits, with persistent buttons for
suggestions and helpful / not-helpful feedback. Every message pings nobody.

The package: ``client`` (the discord.py client and its command tree, where requests are
answered), ``commands`` (the `/nato` group), ``buttons``, ``rendering``, ``poster``
(scheduled digests), ``connection`` (endpoints, login, command sync), ``settings``,
``service`` (Discord as ``briefbot run`` drives it; ``service_factory`` is its entry in
``adapters.registry``) and ``library`` (discord.py, imported quietly).
"""

from __future__ import annotations

from adapters.discord.buttons import FeedbackButton, SuggestionButton
from adapters.discord.client import DEFER_AFTER, BriefbotClient
from adapters.discord.connection import (
    INVITE_PERMISSIONS,
    discord_endpoints,
    invite_url,
    serve,
    sync_commands,
)
from adapters.discord.poster import DiscordPoster
from adapters.discord.rendering import Outgoing, render_reply, split_text
from adapters.discord.service import DiscordService
from adapters.discord.settings import DiscordSettings

__all__ = [
    "DEFER_AFTER",
    "INVITE_PERMISSIONS",
    "BriefbotClient",
    "DiscordPoster",
    "DiscordService",
    "DiscordSettings",
    "FeedbackButton",
    "Outgoing",
    "SuggestionButton",
    "discord_endpoints",
    "invite_url",
    "render_reply",
    "serve",
    "split_text",
    "sync_commands",
]
