"""What the Slack adapter reads from the environment, checked at start-up."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.errors import ConfigError

__all__ = ["DEFAULT_API_URL", "SlackSettings", "api_base"]

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    """What ``briefbot slack`` reads from the environment. Secrets never appear in repr."""

    bot_token: str = field(repr=False)
    signing_secret: str | None = field(repr=False)
    app_token: str | None = field(repr=False)
    api_url: str = DEFAULT_API_URL
    digest_admins: frozenset[str] = frozenset()

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackSettings:
        """Read and check the settings; a missing one raises ConfigError naming it."""
        bot_token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: give the app's Bot User OAuth Token (xoxb-…), "
                "from 'OAuth & Permissions' on the app's settings page."
            )
        app_token = env.get("SLACK_APP_TOKEN", "").strip() or None
        if app_token is not None and not app_token.startswith("xapp-"):
            raise ConfigError(
                "SLACK_APP_TOKEN is not an app-level token (they start with xapp-): create one "
                "with the connections:write scope under 'Basic Information'."
            )
        signing_secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        if app_token is None and signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is not set: HTTP mode needs the app's Signing Secret "
                "('Basic Information'), or set SLACK_APP_TOKEN to use Socket Mode instead."
            )
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
        if not re.match(r"^https?://[^/\s]+", api_url):
            raise ConfigError("SLACK_API_URL must be an http(s) URL, e.g. https://slack.com/api/")
        admins = frozenset(u.strip() for u in env.get("SLACK_DIGEST_ADMINS", "").split(",") if u.strip())
        return cls(bot_token, signing_secret, app_token, api_base(api_url), admins)


def api_base(url: str) -> str:
    """The Web API base as slack_sdk wants it: ending in a slash."""
    return url if url.endswith("/") else url + "/"
