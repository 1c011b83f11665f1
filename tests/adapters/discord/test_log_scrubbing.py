"""At debug level discord.py logs interaction tokens (in the INTERACTION_CREATE event and
the callback URL) and webhook URLs; whoever reads the log must not be able to post as the
bot with them (#14.10). The scrubbing is ``bot.ops.logs``'s, in both formats."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.ops.logs import configure_logging
from tests.adapters.discord.emulator import DiscordEmulator
from tests.adapters.discord.harness import fixture_core, running_bot

INTERACTION_TOKEN = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OmFiY2RlZg"
WEBHOOK_TOKEN = "Xk3r9_hYq-2LmN0pQrStUvWxYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"


@pytest.fixture(params=["plain", "json"])
def captured(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(request.param, "debug", stream=stream)
    try:
        yield stream
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])


def test_tokens_in_interaction_and_webhook_urls_are_scrubbed(captured: io.StringIO) -> None:
    log = logging.getLogger("discord.webhook.async_")
    base = "https://discord.com/api/v10"
    log.debug("POST %s/interactions/1234567890/%s/callback has returned 204", base, INTERACTION_TOKEN)
    log.debug("Webhook ID 42 with PATCH %s/webhooks/42/%s/messages/@original", base, INTERACTION_TOKEN)
    log.debug("posting to https://discord.com/api/webhooks/987654321/%s?wait=true", WEBHOOK_TOKEN)
    text = captured.getvalue()
    assert INTERACTION_TOKEN not in text and WEBHOOK_TOKEN not in text
    assert "/interactions/1234567890/[redacted]/callback" in text
    assert "/webhooks/987654321/[redacted]" in text
    assert "/messages/@original" in text  # the rest of the URL still says what was called


def test_token_fields_of_logged_payloads_are_scrubbed(captured: io.StringIO) -> None:
    log = logging.getLogger("discord.gateway")
    log.debug(
        "WebSocket Event: %s", {"t": "INTERACTION_CREATE", "d": {"id": "1", "token": INTERACTION_TOKEN}}
    )
    log.debug("received %s", json.dumps({"type": 2, "token": INTERACTION_TOKEN, "id": "7"}))
    text = captured.getvalue()
    assert INTERACTION_TOKEN not in text
    assert text.count("[redacted]") == 2
    assert "INTERACTION_CREATE" in text


@pytest.mark.parametrize("text", ["", "token", "a token: of esteem", "/webhooks/ without an id"])
def test_ordinary_text_is_left_alone(captured: io.StringIO, text: str) -> None:
    logging.getLogger("adapters.discord").info("%s", text)
    assert "[redacted]" not in captured.getvalue()


async def test_a_real_slash_command_at_debug_level_logs_no_interaction_token(captured: io.StringIO) -> None:
    async with DiscordEmulator() as emulator, running_bot(emulator, fixture_core()):
        interaction = await emulator.slash("ask", {"question": "who is kishida"})
        await emulator.wait_for_reply(interaction)
    text = captured.getvalue()
    assert "INTERACTION_CREATE" in text  # discord.py did log the event at debug level…
    assert f"/interactions/{interaction.id}/[redacted]/callback" in text  # …and the callback URL
    assert interaction.token not in text
