"""The discord.py client: slash commands, buttons, @mentions and DMs, each translated into
a call of the one ``Bot`` and its ``Reply`` sent back.

Core calls (``Bot.dispatch``, ``Bot.feedback``, ``Bot.answer_entry``) run in order on one
worker thread, so the event loop keeps heartbeating, and an interaction whose answer takes
longer than ``DEFER_AFTER`` seconds is deferred before Discord's three-second deadline.
Autocomplete runs beside them, so a keystroke never waits behind a slow command.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from adapters.discord.buttons import (
    FeedbackButton,
    ReasonSelect,
    ShareButton,
    SuggestionButton,
    question_from,
)
from adapters.discord.commands import NatoCommands, choice_value
from adapters.discord.library import app_commands, discord
from adapters.discord.note_form import NoteForm
from adapters.discord.poster import DiscordPoster
from adapters.discord.rendering import CHOICE_LIMIT, CHOICES_MAX, clip
from adapters.discord.replies import ChannelReply, InteractionReply, VoteReply, apologise
from adapters.discord.threads import Threads, replied_to
from adapters.lifecycle import Lifecycle
from bot.auto_answer import looks_like_question
from bot.digests.scheduler import Scheduler
from bot.dispatch import NOT_A_REASON, Bot
from bot.errors import StoreError
from bot.grammar.intents import Ask, ChannelRef, Intent, Settings
from bot.messages import Reply, Request
from bot.store.protocol import EventMemory
from bot.store.recent import RecentEvents
from bot.text import clean_user_text
from bot.votes import ALREADY_GAVE_REASON, ALREADY_VOTED, REASONS, VOTE_MEMORY, vote_key

__all__ = [
    "ALREADY_VOTED",
    "AUTO_ANSWER_NEEDS_CONTENT",
    "DEFER_AFTER",
    "NOT_A_REASON",
    "BriefbotClient",
    "BriefbotTree",
]

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

PLATFORM = "discord"

AUTO_ANSWER_NEEDS_CONTENT = (
    "Auto-answer needs to read messages that don't mention me, which Discord allows only with the "
    "message content intent, and this bot runs without it. Its operator can turn it on "
    "(`discord_message_content = true`, and the intent in the developer portal; see docs/discord.md). "
    "Nothing was changed."
)
# Seconds a click may wait for the store's verdict on a repeated vote: the answer to it
# must still beat Discord's three-second deadline.
_SEEN_WAIT = 1.0


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
        await apologise(interaction)


class BriefbotClient(discord.Client):
    """discord.py client translating between Discord and one ``Bot``."""

    def __init__(
        self, core: Bot, *, defer_after: float = DEFER_AFTER, message_content: bool = False, **options: Any
    ) -> None:
        options.setdefault("max_ratelimit_timeout", MAX_RATELIMIT_WAIT)
        intents = discord.Intents.default()
        # Privileged: only when the operator enabled it (the portal refuses the login
        # otherwise). Without it, a message that does not mention the bot arrives without
        # its text, so auto-answer cannot work (docs/discord.md).
        intents.message_content = message_content
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), **options)
        self.core = core
        self.message_content = message_content
        self.tree = BriefbotTree(self)
        self.tree.add_command(NatoCommands(self))
        self.poster = DiscordPoster(self)
        # Set before start to post scheduled digests (it needs ``self.poster``).
        self.scheduler: Scheduler | None = None
        self.defer_after = defer_after
        self._scheduler_task: asyncio.Task[None] | None = None
        # The core thread, the requests in flight, and shutting down: answers in flight
        # finish, new interactions get a polite "restarting" (``InteractionReply.decline``).
        self.lifecycle = Lifecycle("Discord", _log)
        # Which conversation each answer in a channel belongs to (replies continue it).
        self.threads = Threads()
        # Who voted on which answer: in the store when it remembers events (so a restart
        # or a second process still counts one vote each), else in memory.
        self._seen: EventMemory = core.store if isinstance(core.store, EventMemory) else RecentEvents()

    async def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for the requests being answered to finish; False if some still were."""
        return await self.lifecycle.wait_idle(timeout)

    # -- lifecycle -------------------------------------------------------------

    async def setup_hook(self) -> None:
        self.add_dynamic_items(SuggestionButton, FeedbackButton, ShareButton, ReasonSelect)
        if self.scheduler is not None:
            self._scheduler_task = asyncio.create_task(
                self._run_scheduler(self.scheduler), name="briefbot-digests"
            )

    async def close(self) -> None:
        task, self._scheduler_task = self._scheduler_task, None
        if task is not None:
            await self._stop_scheduler(task)
        await super().close()
        self.lifecycle.close()

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

    async def _run_scheduler(self, scheduler: Scheduler) -> None:
        # Posts need a logged-in client; waiting for READY also avoids a burst at start-up.
        await self.wait_until_ready()
        await scheduler.run_forever()

    # -- slash commands --------------------------------------------------------

    def request_for(
        self,
        source: discord.Interaction[Any] | discord.Message,
        text: str,
        intent: Intent | None = None,
        thread: str | None = None,
    ) -> Request:
        """The core's ``Request`` for an interaction (a slash command, with the ``intent`` its
        typed options built; a button) or a message (a mention, a DM): the Discord adapter
        builds every one here."""
        channel: int | None
        if isinstance(source, discord.Message):
            user, channel = source.author.id, source.channel.id
            guild = source.guild.id if source.guild else None
            # As in the console, a message starting with "/" uses the command grammar.
            is_command, manager = text.startswith("/"), _manages_channel(source)
        else:
            user, channel, guild = source.user.id, source.channel_id, source.guild_id
            # In a DM the user is the only member of the channel they would manage.
            is_command, manager = True, _may_manage(source.permissions) if guild is not None else True
        return Request(
            platform=PLATFORM,
            user=str(user),
            channel=str(channel or ""),
            text=text,
            is_command=is_command,
            intent=intent,
            workspace=str(guild) if guild is not None else "",
            user_is_manager=manager,
            thread=thread,
            direct=guild is None,
        )

    async def answer_command(
        self,
        interaction: discord.Interaction[Any],
        intent: Intent,
        text: str,
        echo: str | None = None,
        private: bool | None = None,
    ) -> None:
        """Dispatch a `/nato …` command, ``intent`` built from its typed options (``text`` is how
        it reads, for the record), and send the reply (deferred first if the core is slow).

        A question in a server (`/nato ask`) is answered privately with "Share in channel"
        unless ``private`` is False or, when not given, the channel's setting is public."""
        # If it comes to deferring, the visibility must be chosen before the reply exists:
        # commands that usually answer privately defer privately.
        shareable = isinstance(intent, Ask) and interaction.guild_id is not None
        if shareable and private is None:
            private = await self._answers_private(interaction)
        outlet = InteractionReply(
            interaction,
            patience=self.defer_after,
            private=bool(private) if shareable else intent.private,
            echo=echo,
            shareable=shareable,
        )


        async def ask() -> Reply:
            ready = self._settings_ready(interaction, intent) if isinstance(intent, Settings) else intent
            if isinstance(ready, Reply):
                return ready
            return await self.lifecycle.core(self.core.dispatch, self.request_for(interaction, text, ready))

        await self.lifecycle.answer("slash command", outlet, ask)

    def _settings_ready(self, interaction: discord.Interaction[Any], intent: Settings) -> Settings | Reply:
        """The settings command with the channels it names found in this server, or why it
        cannot be applied here; only a manager learns either (the core refuses the rest)."""
        if not _may_manage(interaction.permissions) or interaction.guild_id is None:
            return intent
        if intent.auto_answer and not self.message_content:
            return Reply(AUTO_ANSWER_NEEDS_CONTENT, ephemeral=True, kind="refusal")
        if not intent.allow:
            return intent
        guild = interaction.guild
        return replace(intent, allow=tuple(_find_channel(guild, ref) for ref in intent.allow))

    async def _answers_private(self, interaction: discord.Interaction[Any]) -> bool:
        """The channel's default; private when the store cannot say (the safe side)."""
        try:
            settings = await self.lifecycle.core(
                self.core.channel_settings, PLATFORM, str(interaction.channel_id or "")
            )
        except Exception:
            _log.warning("could not read the channel's settings; answering privately", exc_info=True)
            return True
        return settings.private_answers

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
        async def ask() -> Reply:
            request = self.request_for(interaction, "")
            reply = await self.lifecycle.core(self.core.answer_entry, entry_id, request=request)
            # The answer is for whoever clicked; the channel already saw the question.
            return replace(reply, ephemeral=True)

        outlet = InteractionReply(interaction, patience=self.defer_after, private=True)
        await self.lifecycle.answer(f"suggestion button ({entry_id})", outlet, ask)

    async def on_feedback(
        self, interaction: discord.Interaction[Any], entry_ids: tuple[str, ...], helpful: bool
    ) -> None:
        """A vote: recorded once per user and answer; a second one is refused, unrecorded."""
        question = question_from(interaction.message)
        message = interaction.message
        key = vote_key(
            str(interaction.guild_id or ""),
            str(interaction.channel_id or ""),
            str(message.id) if message is not None else None,
            question,
            entry_ids,
            str(interaction.user.id),
        )

        async def ask() -> Reply:
            request = self.request_for(interaction, "")
            return await self.lifecycle.core(self.core.feedback, request, entry_ids, question, helpful)

        async def vote() -> None:
            if not await self._first_time("discord-vote", key, VOTE_MEMORY):
                await self._tell(interaction, "repeated vote", ALREADY_VOTED)
                return
            outlet = VoteReply(
                interaction,
                patience=self.defer_after,
                helpful=helpful,
                question=question,
                entry_ids=entry_ids,
            )
            await self.lifecycle.answer("feedback button", outlet, ask)

        # A store that fails to say whether this user voted gets the same apology as one
        # that fails to save the vote.
        await self.lifecycle.guarded("feedback button", vote, lambda: apologise(interaction))

    async def on_reason(self, interaction: discord.Interaction[Any], entry_ids: tuple[str, ...]) -> None:
        """The reason a 👎 chose: answered with a form for an optional note (``NoteForm``),
        as Slack's reasons modal has one; sending it keeps both on the voter's vote. The
        value is checked against the reasons offered; anything else is refused."""
        data: Any = interaction.data or {}  # the raw payload: hostile until checked
        values = data.get("values") if isinstance(data, dict) else None
        reason = values[0] if isinstance(values, list) and len(values) == 1 else None
        if not isinstance(reason, str) or reason not in REASONS:
            _log.info("refused a reasons select without a valid reason")
            await self._tell(interaction, "forged reason", NOT_A_REASON)
            return
        message = interaction.message
        key = f"{message.id if message is not None else ''}:{interaction.user.id}"

        async def sent(submitted: discord.Interaction[Any], chosen: str, note: str) -> None:
            await self._keep_reason(submitted, key, entry_ids, chosen, note)

        async def open_form() -> None:
            await interaction.response.send_modal(NoteForm(reason, interaction.user.id, sent))

        await self.lifecycle.guarded("reason select", open_form, lambda: apologise(interaction))

    async def _keep_reason(
        self,
        interaction: discord.Interaction[Any],
        key: str,
        entry_ids: tuple[str, ...],
        reason: str,
        note: str,
    ) -> None:
        """The note form sent: the reason and note kept on the voter's vote for the curators'
        queue, as Slack's are (``Bot.feedback_reason``, which cleans and bounds the note).
        The first reason stays: the same vote's form sent again is refused in words."""
        try:
            first = await self._first_time("discord-vote-reason", key, VOTE_MEMORY)
        except Exception:
            _log.exception("could not check whether this reason was given before; taking it")
            first = True
        if not first:
            await self._tell(interaction, "repeated reason", ALREADY_GAVE_REASON)
            return

        async def keep() -> Reply:
            request = self.request_for(interaction, "")
            return await self.lifecycle.core(self.core.feedback_reason, request, entry_ids, reason, note)

        outlet = InteractionReply(interaction, patience=self.defer_after, private=True)
        await self.lifecycle.answer("reason note", outlet, keep)

    async def _tell(self, interaction: discord.Interaction[Any], what: str, text: str) -> None:
        """A short notice for the clicker alone."""

        async def send() -> None:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=_NOBODY)

        await self.lifecycle.guarded(what, send, None)

    async def _first_time(self, namespace: str, key: str, ttl: timedelta) -> bool:
        """Is this the first time? A store that cannot say within a second (locked, full)
        must not hold up Discord's three-second deadline: then it counts as the first time,
        and that is logged."""
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._seen.remember_event, namespace, key, ttl), timeout=_SEEN_WAIT
            )
        except (StoreError, TimeoutError) as exc:
            why = str(exc) or "no answer within a second"
            _log.warning("could not check whether a %s was seen before (%s); taking it", namespace, why)
            return True

    async def on_share(self, interaction: discord.Interaction[Any]) -> None:
        """Post the private answer the button sits on for the channel, attributed to the
        sharer (named, never pinged); where the allow-list leaves the channel out, the one
        private line instead."""

        async def share() -> None:
            message = interaction.message
            embeds = list(message.embeds) if message is not None else []
            # Sharing posts an answer in the channel: not in one the allow-list leaves out
            # (as on Slack, where sharing asks the question again).
            outside = await self.lifecycle.core(self.core.outside, self.request_for(interaction, ""))
            if outside is not None:
                await interaction.response.send_message(
                    outside.text, ephemeral=True, allowed_mentions=_NOBODY
                )
                return
            if not embeds:
                await interaction.response.send_message(
                    "There is nothing to share here.", ephemeral=True, allowed_mentions=_NOBODY
                )
                return
            await interaction.response.send_message(
                content=f"<@{interaction.user.id}> shared this answer:",
                embeds=embeds,
                allowed_mentions=_NOBODY,
            )

        await self.lifecycle.guarded("share button", share, lambda: apologise(interaction))

    # -- mentions and DMs ------------------------------------------------------

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None or message.type not in _CONVERSATION:
            return
        text = self.addressed_text(message)
        if text is None:
            await self._auto_answer(message)
            return
        thread = self.threads.of(message, self.user.id)
        await self.lifecycle.answer(
            f"message in channel {message.channel.id}",
            ChannelReply(message, echo=text, on_sent=lambda sent: self.threads.answered(sent, thread)),
            lambda: self.lifecycle.core(self.core.dispatch, self.request_for(message, text, thread=thread)),
        )

    async def _auto_answer(self, message: discord.Message) -> None:
        """A server message not addressed to the bot: answered in a reply only where the
        channel's managers turned auto-answer on and the notes answer it with confidence
        (``Bot.auto_answer``). Only with the message-content intent does it carry text."""
        if not self.message_content or message.guild is None or message.type != discord.MessageType.default:
            return
        text = clean_user_text(message.content)
        if not looks_like_question(text):
            return  # most of a channel's messages: no trip to the core thread
        thread = str(message.id)  # a new question starts a conversation of its own
        request = self.request_for(message, text, thread=thread)

        async def ask() -> Reply:
            reply = await self.lifecycle.core(self.core.auto_answer, request)
            return reply if reply is not None else Reply("", kind="silence")

        outlet = ChannelReply(
            message, echo=text, on_sent=lambda sent: self.threads.answered(sent, thread), unasked=True
        )
        await self.lifecycle.answer(f"auto-answer in channel {message.channel.id}", outlet, ask)

    def addressed_text(self, message: discord.Message) -> str | None:
        """The text meant for the bot: any DM, a channel message that mentions it, or a
        reply to one of its messages (a follow-up: no new mention needed)."""
        assert self.user is not None
        me = self.user.id
        role = message.guild.self_role if message.guild else None
        mentioned = any(user.id == me for user in message.mentions) or (
            role is not None and any(r.id == role.id for r in message.role_mentions)
        )
        # A reply with its ping turned off: without the message-content intent Discord
        # withholds its text, so there is nothing to answer (docs/discord.md).
        if (
            message.guild is not None
            and not mentioned
            and (replied_to(message, me) is None or not message.content.strip())
        ):
            return None
        text = re.sub(rf"<@!?{me}>", " ", message.content)
        if role is not None:
            text = text.replace(f"<@&{role.id}>", " ")
        return " ".join(text.split())


_CONVERSATION = (discord.MessageType.default, discord.MessageType.reply)
_NOBODY = discord.AllowedMentions.none()


def _find_channel(guild: discord.Guild | None, ref: ChannelRef) -> ChannelRef:
    """``ref`` with the id and name of the server's channel it names; its id left empty when
    the server has no such channel (the core then says so, and nothing is changed)."""
    found: Any = None
    if guild is not None:
        if ref.id.isdigit():
            found = guild.get_channel_or_thread(int(ref.id))
        elif ref.name:
            folded = ref.name.casefold()
            found = next((c for c in guild.channels if c.name.casefold() == folded), None)
    if found is None or isinstance(found, discord.CategoryChannel):
        return ChannelRef(id="", name=ref.name or ref.id)
    return ChannelRef(id=str(found.id), name=found.name)


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
