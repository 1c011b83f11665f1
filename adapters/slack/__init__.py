"""Slack adapter: slack-bolt (AsyncApp) in Socket Mode or over HTTP.

Like every adapter it only translates. A slash command, a mention, a direct message or a
button click becomes a ``bot.dispatch.Request``; the ``Reply`` goes back as Block Kit
(``rendering``). Behaviour a Slack user relies on lives here:

- every request is acknowledged first, so Slack's 3-second deadline is always met;
- plain answers to ``/nato`` are posted to the channel, errors and previews only to the asker;
- a mention is answered in a thread, a direct message directly;
- an event Slack delivers twice (a retry, or the same ``event_id`` again) is answered once,
  even across a restart or by another replica (the store remembers event ids), and a
  signed request replayed within its five minutes is refused;
- 429 responses are retried after the ``Retry-After`` Slack asks for;
- anything that goes wrong is logged with its traceback at this boundary and the user gets
  one short apology.

The package: ``app`` (the bolt app and its handlers; ``build_app`` is the factory the tests
and ``SlackService`` share), ``rendering`` (Block Kit both ways), ``events`` (reading
deliveries), ``managers`` (who may manage digests), ``poster`` (scheduled digests),
``settings``, ``api_errors`` and ``service`` (Slack as ``briefbot run`` drives it: check the
token, connect in Socket Mode or mount ``POST /slack/events`` on the runtime's web server,
stop taking events, wait for answers in flight; ``service_factory`` is its entry in
``adapters.registry``). ``briefbot slack`` is that runtime with Slack alone.
"""

from __future__ import annotations

from adapters.slack.app import EVENTS_PATH as EVENTS_PATH
from adapters.slack.app import SlackApp, build_app
from adapters.slack.poster import SlackPoster
from adapters.slack.service import SlackService, connect_socket_mode, serve_http
from adapters.slack.settings import DEFAULT_API_URL, SlackSettings

__all__ = [
    "DEFAULT_API_URL",
    "SlackApp",
    "SlackPoster",
    "SlackService",
    "SlackSettings",
    "build_app",
    "connect_socket_mode",
    "serve_http",
]
