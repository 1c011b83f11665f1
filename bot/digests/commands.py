"""`/nato digest …`: subscribe a channel, list, unsubscribe, preview. Shared by every adapter.

Plugged into ``Bot(digest_handler=DigestCommands(store, kb_provider))``. Like the rest of
dispatch it never raises: a mistake gets a precise usage message listing what is valid,
a broken database gets one short apology (and a log line with the traceback).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from bot.digests.compose import (
    DIGEST_KINDS,
    DIGEST_USAGE,
    DigestError,
    DigestSpec,
    compose,
    parse_spec,
    snapshot,
)
from bot.digests.schedule import SCHEDULE_HELP, Schedule, ScheduleError, parse_schedule_words
from bot.errors import StoreError
from bot.knowledge.base import KnowledgeBase
from bot.messages import Reply, Request
from bot.store.protocol import Store
from bot.store.values import NewSubscription, Subscription
from bot.text import quote_user_text

__all__ = ["DIGEST_COMMAND_USAGE", "MAX_PER_CHANNEL", "SAY_WHEN_EMPTY", "DigestCommands"]

_log = logging.getLogger(__name__)

# Enough for every kind on a couple of schedules; more would be noise, not news.
MAX_PER_CHANNEL = 10

# The one word, anywhere after the kind, that asks for a line when there is nothing new.
SAY_WHEN_EMPTY = "always"

DIGEST_COMMAND_USAGE = (
    "Usage: `/nato digest subscribe <kind> [arg] <schedule> [time zone]`, `/nato digest list`, "
    "`/nato digest unsubscribe <id>`, `/nato digest now <kind> [arg]` (a private preview).\n"
    f"{DIGEST_USAGE}\n{SCHEDULE_HELP}\n"
    "A digest never repeats what it has posted unless it changed, and skips a run with nothing "
    f"new; add `{SAY_WHEN_EMPTY}` to get one line saying so instead.\n"
    "Example: `/nato digest subscribe topic maritime weekly mon 09:00 Europe/Brussels`."
)

# Who counts as a manager is each platform's rule (the adapter decides it), so the
# refusal names that rule: "channel managers" would send a Slack user looking for a
# channel setting that does not exist.
_MANAGERS = {
    "slack": "workspace admins and the people on this bot's digest admin list",
    "discord": "members with the Manage Channels permission",
}


def _refusal(platform: str) -> Reply:
    who = _MANAGERS.get(platform, "channel managers")
    return Reply(
        f"Sorry, only {who} can subscribe this channel to digests or cancel them. "
        "Ask one of them to set it up; meanwhile `/nato digest now <kind>` shows you a private preview.",
        ephemeral=True,
        kind="refusal",
    )


_KINDS_WITH_ARG = ("period", "topic")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _usage(message: str) -> Reply:
    return Reply(message, ephemeral=True, kind="usage")


def _when(schedule: Schedule, moment: datetime) -> str:
    local = moment.astimezone(schedule.zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


class DigestCommands:
    """The handler behind ``/nato digest``."""

    def __init__(
        self,
        store: Store,
        kb_provider: Callable[[], KnowledgeBase],
        *,
        clock: Callable[[], datetime] = _utcnow,
        default_zone: str | None = None,
        message_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.store = store
        self.kb_provider = kb_provider
        self.clock = clock
        self.default_zone = default_zone  # for subscriptions that name no time zone; None: UTC
        # platform -> its Poster's message_limit, which previews are split to. Kept, not
        # copied: the runtime learns each platform's limit as it builds its service, after
        # this handler, and fills it in before any request arrives.
        self.message_limits: Mapping[str, int] = {} if message_limits is None else message_limits

    def __call__(self, request: Request, args: str) -> Reply:
        try:
            return self._handle(request, args.split())
        except StoreError:
            _log.exception("digest command failed on the store")
            return Reply(
                "Sorry, I couldn't reach the subscription store, so nothing was changed. It has been logged.",
                ephemeral=True,
                kind="info",
            )
        except Exception:  # the dispatch contract: nothing a user types raises
            _log.exception("digest command %r failed", args[:80])
            return Reply(
                "Sorry, something went wrong with that digest command. It has been logged.",
                ephemeral=True,
                kind="info",
            )

    def _handle(self, request: Request, words: Sequence[str]) -> Reply:
        sub = words[0].casefold() if words else "help"
        rest = list(words[1:])
        if sub == "subscribe":
            return self._subscribe(request, rest)
        if sub == "list":
            return self._list(request)
        if sub in ("unsubscribe", "cancel", "remove"):
            return self._unsubscribe(request, rest)
        if sub in ("now", "preview"):
            return self._now(request, rest)
        if sub == "help":
            return Reply(DIGEST_COMMAND_USAGE, title="Digests", ephemeral=True, kind="help")
        return _usage(f"I don't know `digest {quote_user_text(words[0], 30)}`. {DIGEST_COMMAND_USAGE}")

    # -- subcommands --

    def _spec(self, words: Sequence[str], kb: KnowledgeBase) -> tuple[DigestSpec, list[str]]:
        """The digest kind and its argument at the front of ``words``; the rest follows."""
        if not words:
            raise DigestError(f"Which digest? {DIGEST_USAGE}")
        kind = words[0].casefold()
        takes_arg = kind in _KINDS_WITH_ARG
        arg = words[1] if takes_arg and len(words) > 1 else ""
        rest = list(words[2:] if takes_arg else words[1:])
        return parse_spec(kind, arg, kb, today=self.clock().date()), rest

    def _subscribe(self, request: Request, words: list[str]) -> Reply:
        if not request.user_is_manager:
            return _refusal(request.platform)
        kb = self.kb_provider()
        try:
            spec, rest = self._spec(words, kb)
            # Anywhere after the kind: on Discord it can only be typed into another field.
            say_when_empty = any(w.casefold() == SAY_WHEN_EMPTY for w in rest)
            rest = [w for w in rest if w.casefold() != SAY_WHEN_EMPTY]
            # "month maritime daily 09:00": a stray argument, not a bad schedule.
            stray = len(rest) > 1 and _not_a_schedule(rest[0]) and not _not_a_schedule(rest[1])
            if spec.kind not in _KINDS_WITH_ARG and stray:
                raise DigestError(f"`{spec.kind}` takes no argument (got “{quote_user_text(rest[0], 30)}”).")
            schedule = parse_schedule_words(rest, self.default_zone)
        except (DigestError, ScheduleError) as exc:
            return _usage(f"{exc}\n{_SUBSCRIBE_USAGE}")
        mine = self._channel_subscriptions(request)
        for existing in mine:
            if (existing.kind, existing.arg, existing.schedule, existing.tz) == (
                spec.kind,
                spec.arg,
                schedule.text,
                schedule.tz,
            ):
                return Reply(
                    f"This channel already gets that digest (#{existing.id}).", ephemeral=True, kind="info"
                )
        if len(mine) >= MAX_PER_CHANNEL:
            return Reply(
                f"This channel already has {len(mine)} digests, the most I keep per channel. "
                "Unsubscribe one first (`/nato digest list` shows their ids).",
                ephemeral=True,
                kind="info",
            )
        now = self.clock()
        created = self.store.add_subscription(
            NewSubscription(
                platform=request.platform,
                workspace=request.workspace,
                channel=request.channel,
                kind=spec.kind,
                arg=spec.arg,
                schedule=schedule.text,
                tz=schedule.tz,
                created_by=request.user,
                baseline=snapshot(kb) if spec.kind == "new" else None,
                say_when_empty=say_when_empty,
            ),
            now=now,
        )
        first = schedule.next_after(now)
        empty = " When there is nothing new, it says so in one line." if say_when_empty else ""
        return Reply(
            f"Subscribed this channel to the `{spec.describe()}` digest (#{created.id}), "
            f"{schedule.describe()}. First one: {_when(schedule, first.at)}.{empty}",
            title="Digest subscribed",
            kind="info",
        )

    def _list(self, request: Request) -> Reply:
        mine = self._channel_subscriptions(request)
        if not mine:
            return Reply(
                "This channel has no digest subscriptions. Start one with "
                "`/nato digest subscribe <kind> [arg] <schedule> [time zone]`; `/nato digest help` explains.",
                ephemeral=True,
                kind="info",
            )
        now = self.clock()
        lines = []
        for sub in mine:
            schedule = parse_schedule_words([*sub.schedule.split(), sub.tz])
            always = f" `{SAY_WHEN_EMPTY}`" if sub.say_when_empty else ""
            line = (
                f"• #{sub.id} `{DigestSpec(sub.kind, sub.arg).describe()}`{always}, {schedule.describe()}; "
                f"next {_when(schedule, schedule.next_after(now).at)}"
            )
            last = self.store.last_delivery(sub.id)
            if last is not None:
                line += f"; last ({last.period_key}): {_status(last.status, last.last_error)}"
            lines.append(line)
        return Reply("\n".join(lines), title="Digests in this channel", ephemeral=True, kind="info")

    def _unsubscribe(self, request: Request, words: list[str]) -> Reply:
        if not request.user_is_manager:
            return _refusal(request.platform)
        wanted = words[0].lstrip("#") if len(words) == 1 else ""
        if not wanted.isdigit():
            return _usage(
                "Usage: `/nato digest unsubscribe <id>`, with an id from `/nato digest list` (e.g. `3`)."
            )
        # Only this channel's subscriptions: a manager here is not a manager elsewhere.
        target = next((s for s in self._channel_subscriptions(request) if s.id == int(wanted)), None)
        if target is None or not self.store.remove_subscription(target.id):
            return Reply(
                f"This channel has no digest #{int(wanted)}; `/nato digest list` shows its subscriptions.",
                ephemeral=True,
                kind="info",
            )
        return Reply(
            f"Unsubscribed this channel from digest #{target.id} "
            f"(`{DigestSpec(target.kind, target.arg).describe()}`).",
            kind="info",
        )

    def _now(self, request: Request, words: list[str]) -> Reply:
        kb = self.kb_provider()
        try:
            spec, rest = self._spec(words, kb)
        except DigestError as exc:
            return _usage(f"{exc}\nUsage: `/nato digest now <kind> [arg]`.")
        if rest:
            extra = quote_user_text(" ".join(rest), 30)
            return _usage(f"`digest now` takes a kind and its argument only, not “{extra}”.")
        baseline, delivered = None, None
        if spec.kind == "new":
            tracked = [s for s in self._channel_subscriptions(request) if s.kind == "new"]
            if tracked:
                baseline, delivered = tracked[0].baseline, self.store.delivered(tracked[0].id)
            if baseline is None and not delivered:
                return Reply(
                    "A `new` digest lists what curators add after a channel subscribes, and this channel "
                    "has no `new` subscription yet, so there is nothing to compare against.",
                    ephemeral=True,
                    kind="info",
                )
        digest = compose(spec, kb, on=self.clock().date(), baseline=baseline, delivered=delivered)
        reply = digest.to_reply(self.message_limits.get(request.platform))
        return Reply(
            text=reply.text,
            title=f"Preview: {digest.title}",
            kind="digest",
            ephemeral=True,
            entry_ids=reply.entry_ids,
            parts=reply.parts,
        )

    def _channel_subscriptions(self, request: Request) -> tuple[Subscription, ...]:
        return self.store.subscriptions(
            platform=request.platform, workspace=request.workspace, channel=request.channel
        )


_SUBSCRIBE_USAGE = (
    f"Usage: `/nato digest subscribe <kind> [arg] <schedule> [time zone]` (and `{SAY_WHEN_EMPTY}` to hear "
    "when there is nothing new), e.g. "
    "`/nato digest subscribe month monthly 1 09:00 Asia/Tokyo` or "
    "`/nato digest subscribe topic cyber weekly mon 09:00 Europe/Brussels`. "
    f"Kinds: {', '.join(DIGEST_KINDS)}."
)


def _not_a_schedule(word: str) -> bool:
    folded = word.casefold()
    return folded not in ("daily", "weekly", "monthly") and not folded[:1].isdigit() and folded[:1] != "*"


def _status(status: str, error: str | None) -> str:
    if status == "failed" and error:
        return f"failed ({error[:80]})"
    return {"done": "posted", "empty": "nothing to post", "claimed": "in progress"}.get(status, status)
