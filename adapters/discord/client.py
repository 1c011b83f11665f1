"""The discord.py client: slash commands, buttons, @mentions and DMs, each translated into
a call of the one ``Bot`` and its ``Reply`` sent back.

Core calls (``Bot.dispatch``, ``Bot.feedback``, ``Bot.answer_entry``) run in order on one
worker thread, so the event loop keeps heartbeating, and an interaction whose answer takes
longer than ``DEFER_AFTER`` seconds is deferred before Discord's three-second deadline.
Autocomplete runs beside them, so a keystroke never waits behind a slow command.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

import aiohttp

from adapters.core_thread import CoreThread
from adapters.discord.buttons import FeedbackButton, SuggestionButton, message_kwargs, question_from
from adapters.discord.commands import NatoCommands, choice_value
from adapters.discord.library import app_commands, discord
from adapters.discord.poster import DiscordPoster
from adapters.discord.rendering import CHOICE_LIMIT, CHOICES_MAX, clip, render_reply
from adapters.in_flight import InFlight
from bot.digests.scheduler import Scheduler
from bot.dispatch import Bot
from bot.grammar.intents import Intent
from bot.messages import Reply, Request

__all__ = ["APOLOGY", "DEFER_AFTER", "RESTARTING", "BriefbotClient", "BriefbotTree"]

# Failures at the boundary are logged on the platform's logger, the one the runtime counts
# Discord's errors on (``adapters.registry``: each platform logs under ``adapters.<name>``).
_log = logging.getLogger("adapters.discord")

P = ParamSpec("P")
T = TypeVar("T")

# Discord allows three seconds to answer an interaction; defer well before that.
DEFER_AFTER = 2.0
# A REST call asked to wait longer than this raises instead of sleeping (posters retry later).
MAX_RATELIMIT_WAIT = 30.0
# How long closing waits for a digest post in flight.
SCHEDULER_STOP_WAIT = 10.0

APOLOGY = "Sorry, something went wrong on my side answering that. It has been logged."
RESTARTING = "briefbot is restarting; please ask again in a minute."


class BriefbotTree(app_commands.CommandTree["BriefbotClient"]):
    """The command tree; its error hook is the boundary every command failure stops at."""

    async def on_error(
        self, interaction: discord.Interaction[BriefbotClient], error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            _log.warning("Discord sent an out-of-date command (%s); run `briefbot discord sync`", error)
        else:
            cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            command = interaction.command.qualified_name if interaction.command else "?"
            _log.error("/%s failed", command, exc_info=cause)
        await _apologise(interaction)


async def _apologise(interaction: discord.Interaction[Any]) -> None:
    try:
        if interaction.response.is_done():
            await interaction.followup.send(
                APOLOGY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
        else:
            await interaction.response.send_message(
                APOLOGY, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )
    except (discord.HTTPException, aiohttp.ClientError, OSError):
        _log.warning("could not deliver the apology either", exc_info=True)


class BriefbotClient(discord.Client):
    """discord.py client translating between Discord and one ``Bot``."""

    def __init__(self, core: Bot, *, defer_after: float = DEFER_AFTER, **options: Any) -> None:
        options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        super().__init__(
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
            **options,
        )
        self.core = core
        self.tree = BriefbotTree(self)
        self.tree.add_command(NatoCommands(self))
        self.poster = DiscordPoster(self)
        # Set before start to post scheduled digests (it needs ``self.poster``).
        self.scheduler: Scheduler | None = None
        self.defer_after = defer_after
        self._scheduler_task: asyncio.Task[None] | None = None
        # One thread: the core is sync, and one worker keeps its calls in order.
        self._core_thread = CoreThread()
        # Shutting down: answers in flight finish, new requests get a polite "restarting".
        self.draining = False
        self._in_flight = InFlight()

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        return await self._in_flight.wait_idle(timeout)

    async def _decline(self, interaction: discord.Interaction[Any]) -> None:
        with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError):
            await interaction.response.send_message(
                RESTARTING, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
            )

    # -- lifecycle -------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(SuggestionButton, FeedbackButton)
        if self.scheduler is not None:
            self._scheduler_task = asyncio.create_task(
                self._run_scheduler(self.scheduler), name="briefbot-digests"
            )

    async def close(self) -> None:
        task, self._scheduler_task = self._scheduler_task, None
        if task is not None:
            await self._stop_scheduler(task)
        await super().close()
        self._core_thread.close()

    async def _stop_scheduler(self, task: asyncio.Task[None]) -> None:
        if self.scheduler is not None and self.is_ready():
            # Let a post in flight finish (the scheduler never cuts one midway), within reason.
            self.scheduler.stop()
            await asyncio.wait({task}, timeout=SCHEDULER_STOP_WAIT)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
        error = None if task.cancelled() else task.exception()
        if error is not None:
            _log.error("the digest scheduler failed", exc_info=error)

    async def on_ready(self) -> None:
        _log.info("connected as %s to %d server(s)", self.user, len(self.guilds))

    async def run_core(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run a sync core call on the core thread."""
        return await self._core_thread.run(fn, *args, **kwargs)

    async def _run_scheduler(self, scheduler: Scheduler) -> None:
        # Posts need a logged-in client; waiting for READY also avoids a burst at start-up.
        await self.wait_until_ready()
        await scheduler.run_forever()

    # -- slash commands --------------------------------------------------------

    def request_for(
        self, interaction: discord.Interaction[Any], text: str, intent: Intent | None = None
    ) -> Request:
        in_guild = interaction.guild_id is not None
        return Request(
            platform="discord",
            user=str(interaction.user.id),
            channel=str(interaction.channel_id or ""),
            text=text,
            is_command=True,
            intent=intent,
            workspace=str(interaction.guild_id) if in_guild else "",
            # In a DM the user is the only member of the channel they would manage.
            user_is_manager=_may_manage(interaction.permissions) if in_guild else True,
        )

    async def answer_command(
        self, interaction: discord.Interaction[Any], intent: Intent, text: str, echo: str | None = None
    ) -> None:
        """Dispatch a `/nato …` command, ``intent`` built from its typed options (``text`` is how
        it reads, for the record), and send the reply (deferred first if the core is slow)."""
        if self.draining:
            await self._decline(interaction)
            return
        with self._in_flight.working():
            request = self.request_for(interaction, text, intent)
            # If it comes to deferring, the visibility must be chosen before the reply exists:
            # commands that usually answer privately defer privately.
            reply = await self.within_deadline(interaction, intent.private, self.core.dispatch, request)
            await self.send_to_interaction(
                interaction, reply, echo=echo if reply.kind in ("answer", "abstain") else None
            )

    async def within_deadline(
        self,
        interaction: discord.Interaction[Any],
        private: bool,
        fn: Callable[P, Reply],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Reply:
        """Run a core call; if it outlasts ``defer_after``, defer the interaction meanwhile.

        Discord drops an interaction not acknowledged within three seconds. Answers take
        milliseconds; only a busy store or a large digest ever gets here.
        """
        pending = asyncio.ensure_future(self.run_core(fn, *args, **kwargs))
        done, _ = await asyncio.wait({pending}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(thinking=True, ephemeral=private)
        return await pending

    async def send_to_interaction(
        self, interaction: discord.Interaction[Any], reply: Reply, echo: str | None = None
    ) -> None:
        ephemeral = reply.ephemeral
        for message in render_reply(reply, echo=echo):
            kwargs = message_kwargs(message)
            if not interaction.response.is_done():
                await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            else:
                await interaction.followup.send(ephemeral=ephemeral, **kwargs)

    async def suggest(self, current: str, kinds: tuple[str, ...]) -> list[app_commands.Choice[str]]:
        """Autocomplete choices, ranked by the engine; a failure offers none rather than an error."""
        try:
            # Not on the core thread: a keystroke must never queue behind a slow command.
            entries = await asyncio.to_thread(self.core.engine.suggest, current, kinds, CHOICES_MAX)
        except Exception:
            _log.exception("autocomplete failed for %r", current[:40])
            return []
        return [
            app_commands.Choice(name=clip(e.title, CHOICE_LIMIT), value=choice_value(e))
            for e in entries[:CHOICES_MAX]
        ]

    # -- buttons ---------------------------------------------------------------

    async def on_suggestion(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        if self.draining:
            await self._decline(interaction)
            return
        with self._in_flight.working():
            try:
                reply = await self.within_deadline(interaction, True, self.core.answer_entry, entry_id)
                # The answer is for whoever clicked; the channel already saw the question.
                await self.send_to_interaction(interaction, replace(reply, ephemeral=True))
            except Exception:
                _log.exception("suggestion button %r failed", entry_id)
                await _apologise(interaction)

    async def on_feedback(
        self, interaction: discord.Interaction[Any], entry_ids: tuple[str, ...], helpful: bool
    ) -> None:
        if self.draining:
            await self._decline(interaction)
            return
        with self._in_flight.working():
            try:
                request = self.request_for(interaction, "")
                question = question_from(interaction.message)
                reply = await self.within_deadline(
                    interaction, True, self.core.feedback, request, entry_ids, question, helpful
                )
                await self.send_to_interaction(interaction, reply)
            except Exception:
                _log.exception("feedback button failed")
                await _apologise(interaction)

    # -- mentions and DMs ------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if self.draining:
            return  # shutting down: a mention or DM is simply not taken up
        with self._in_flight.working():
            if message.author.bot or self.user is None or message.type not in _CONVERSATION:
                return
            text = self.addressed_text(message)
            if text is None:
                return
            try:
                request = Request(
                    platform="discord",
                    user=str(message.author.id),
                    channel=str(message.channel.id),
                    text=text,
                    is_command=text.startswith("/"),
                    workspace=str(message.guild.id) if message.guild else "",
                    user_is_manager=_manages_channel(message),
                )
                reply = await self.run_core(self.core.dispatch, request)
                echo = text if reply.kind in ("answer", "abstain") else None
                await self.send_to_channel(message, reply, echo=echo)
            except Exception:
                _log.exception("failed to answer a message in channel %s", message.channel.id)
                with contextlib.suppress(discord.HTTPException, aiohttp.ClientError, OSError):
                    await message.channel.send(
                        APOLOGY,
                        reference=message.to_reference(fail_if_not_exists=False),
                        allowed_mentions=discord.AllowedMentions.none(),
                    )

    def addressed_text(self, message: discord.Message) -> str | None:
        """The text meant for the bot: any DM, or a channel message that mentions it."""
        assert self.user is not None
        me = self.user.id
        role = message.guild.self_role if message.guild else None
        mentioned = any(user.id == me for user in message.mentions) or (
            role is not None and any(r.id == role.id for r in message.role_mentions)
        )
        if message.guild is not None and not mentioned:
            return None
        text = re.sub(rf"<@!?{me}>", " ", message.content)
        if role is not None:
            text = text.replace(f"<@&{role.id}>", " ")
        return " ".join(text.split())

    async def send_to_channel(self, message: discord.Message, reply: Reply, echo: str | None = None) -> None:
        reference = message.to_reference(fail_if_not_exists=False) if message.guild else None
        for index, outgoing in enumerate(render_reply(reply, echo=echo)):
            kwargs = message_kwargs(outgoing)
            if index == 0 and reference is not None:
                kwargs["reference"] = reference
                kwargs["mention_author"] = False
            await message.channel.send(**kwargs)


_CONVERSATION = (discord.MessageType.default, discord.MessageType.reply)


def _may_manage(permissions: discord.Permissions) -> bool:
    return permissions.manage_channels or permissions.administrator


def _manages_channel(message: discord.Message) -> bool:
    if message.guild is None:
        return True
    author = message.author
    if not isinstance(author, discord.Member):
        return False
    permissions_for = getattr(message.channel, "permissions_for", None)
    if permissions_for is None:
        return _may_manage(author.guild_permissions)
    return _may_manage(permissions_for(author))
