"""Where a reply goes back on Slack: the ``Outlet`` of each kind of delivery.

A slash command is answered through its ``response_url``; a mention or a direct message by
a post in the channel (in the mention's thread); a click on a button under the clicked
message. Plain answers are shown to the channel, errors and previews only to the asker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from adapters.lifecycle import Outlet
from adapters.slack.events import DM_CHANNEL, ActionPlace
from adapters.slack.rendering import SlackMessage, render_reply
from bot.messages import Reply

__all__ = ["SORRY", "AutoReply", "ClickReply", "CommandReply", "PostedReply", "SharedReply"]

SORRY = "Sorry, something went wrong answering that. It has been logged."


class CommandReply(Outlet[SlackMessage]):
    """A `/nato` command's reply, through its response_url. An answer is shown only to the
    asker, with a "Share in channel" button (#13), unless the channel's managers made
    answers ``public``; a decline only to the asker, unshareable."""

    def __init__(
        self,
        respond: AsyncRespond,
        *,
        asked_by: str,
        asked: str,
        command_text: str,
        public_answers: bool = False,
    ) -> None:
        self.respond = respond
        self.asked_by = asked_by
        self.asked = asked
        self.command_text = command_text
        self.public_answers = public_answers

    def render(self, reply: Reply) -> SlackMessage:
        if reply.ephemeral or reply.kind == "abstain":
            return render_reply(reply)
        if reply.kind == "answer" and not self.public_answers:
            return render_reply(reply, share=self.command_text)
        # What the channel should see (a digest subscribed, an answer where answers are
        # public), said publicly with who asked.
        return render_reply(reply, asked_by=self.asked_by, asked=self.asked)

    async def send(self, message: SlackMessage, reply: Reply) -> None:
        private = reply.ephemeral or reply.kind == "abstain" or (
            reply.kind == "answer" and not self.public_answers
        )
        await _respond(self.respond, message, ephemeral=private)

    async def apologise(self) -> None:
        await self.respond(text=SORRY, response_type="ephemeral")


class SharedReply(Outlet[SlackMessage]):
    """A shared answer: posted to the channel through the click's response_url, attributed
    to the user who shared it; a reply that is private after all stays private."""

    def __init__(self, respond: AsyncRespond, *, shared_by: str, asked: str) -> None:
        self.respond = respond
        self.shared_by = shared_by
        self.asked = asked

    def render(self, reply: Reply) -> SlackMessage:
        if reply.ephemeral or reply.kind == "abstain":
            return render_reply(reply)
        return render_reply(reply, asked_by=self.shared_by, asked=self.asked, verb="shared")

    async def send(self, message: SlackMessage, reply: Reply) -> None:
        await _respond(self.respond, message, ephemeral=reply.ephemeral or reply.kind == "abstain")

    async def apologise(self) -> None:
        await self.respond(text=SORRY, response_type="ephemeral", replace_original=False)


class PostedReply(Outlet[SlackMessage]):
    """A mention's or a direct message's reply, posted in the channel or thread. Where the
    workspace's allow-list leaves the channel out, a mention hears so privately; a thread
    reply (``quiet_elsewhere``), which did not address the bot, hears nothing."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        user: str,
        thread_ts: str | None,
        quiet_elsewhere: bool = False,
    ) -> None:
        self.client = client
        self.channel = channel
        self.user = user
        self.thread_ts = thread_ts
        self.quiet_elsewhere = quiet_elsewhere

    def render(self, reply: Reply) -> SlackMessage:
        return render_reply(reply)

    async def send(self, message: SlackMessage, reply: Reply) -> None:
        if reply.kind == "elsewhere" and self.quiet_elsewhere:
            return
        await post(
            self.client, self.channel, self.user, message, ephemeral=reply.ephemeral, thread_ts=self.thread_ts
        )

    async def apologise(self) -> None:
        await self.client.chat_postMessage(channel=self.channel, text=SORRY, thread_ts=self.thread_ts)


class AutoReply(PostedReply):
    """An auto-answer, in a thread under the question: sent only when the core found a
    confident answer. Nobody addressed the bot, so silence (not a "sorry") covers the rest,
    failures included (they are logged)."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        channel: str,
        user: str,
        thread_ts: str,
        on_sent: Callable[[], None],
    ) -> None:
        super().__init__(client, channel=channel, user=user, thread_ts=thread_ts)
        self.on_sent = on_sent

    async def send(self, message: SlackMessage, reply: Reply) -> None:
        if reply.kind != "answer":
            return
        await super().send(message, reply)
        self.on_sent()

    async def apologise(self) -> None:
        return None


class ClickReply(Outlet[SlackMessage]):
    """A button's reply, under the clicked message; ``private`` ones only for the clicker."""

    def __init__(
        self, client: AsyncWebClient, respond: AsyncRespond, place: ActionPlace, *, private: bool
    ) -> None:
        self.client = client
        self.respond = respond
        self.place = place
        self.private = private

    def _private(self, reply: Reply) -> bool:
        return self.private or reply.ephemeral

    def render(self, reply: Reply) -> SlackMessage:
        if self._private(reply):
            return render_reply(reply)
        return render_reply(reply, asked_by=self.place.user, asked=reply.title or None)

    async def send(self, message: SlackMessage, reply: Reply) -> None:
        await self._answer(message, ephemeral=self._private(reply))

    async def apologise(self) -> None:
        await self._answer(SlackMessage(text=SORRY, blocks=()), ephemeral=True)

    async def _answer(self, message: SlackMessage, *, ephemeral: bool) -> None:
        place = self.place
        # response_url works wherever the button was, even in channels the bot isn't in.
        if place.has_response_url:
            if ephemeral:
                await _respond(self.respond, message, ephemeral=True)
            else:
                await _respond(self.respond, message, ephemeral=False, thread_ts=place.reply_thread())
            return
        await post(
            self.client,
            place.channel,
            place.user,
            message,
            ephemeral=ephemeral,
            thread_ts=place.reply_thread(),
        )


async def post(
    client: AsyncWebClient,
    channel: str,
    user: str,
    message: SlackMessage,
    *,
    ephemeral: bool,
    thread_ts: str | None,
) -> None:
    """Post in the channel (or thread); an ephemeral one only the user sees, except in a
    direct message, where everything is private anyway."""
    if ephemeral and not DM_CHANNEL.match(channel):
        await client.chat_postEphemeral(
            channel=channel, user=user, thread_ts=thread_ts, **message.as_kwargs()
        )
    else:
        await client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **message.as_kwargs(),
        )


async def _respond(
    respond: AsyncRespond, message: SlackMessage, *, ephemeral: bool, thread_ts: str | None = None
) -> None:
    """Answer through the response_url; replace_original=False keeps the message clicked or
    typed into, and a failure (an expired URL, say) is raised, not silently dropped."""
    kwargs: dict[str, Any] = {"blocks": list(message.blocks)} if message.blocks else {}
    response = await respond(
        text=message.text,
        response_type="ephemeral" if ephemeral else "in_channel",
        replace_original=False,
        thread_ts=thread_ts,
        **kwargs,
    )
    if response.status_code != 200:
        raise RuntimeError(f"response_url answered HTTP {response.status_code}: {response.body[:200]!r}")
