"""The registry the runtime finds the platforms' services in."""

from __future__ import annotations

import pytest

import adapters.discord.service
import adapters.slack.service
from adapters.registry import PLATFORMS, Platform, ServiceMaker, configured_platforms
from adapters.runtime.process import nothing_configured
from bot.errors import ConfigError
from bot.ops.config import Config

# mypy checks that each platform's maker makes what the runtime drives (a ``Service``).
MAKERS: dict[str, ServiceMaker] = {
    "slack": adapters.slack.service.service_factory,
    "discord": adapters.discord.service.service_factory,
}


def test_every_registered_platform_names_its_service_maker() -> None:
    assert list(PLATFORMS) == ["slack", "discord"]
    for name, platform in PLATFORMS.items():
        assert platform.maker() is MAKERS[name]


def test_a_platform_starts_when_any_of_its_credentials_is_set() -> None:
    assert configured_platforms({}) == ()
    assert configured_platforms({"SLACK_SIGNING_SECRET": "s", "DISCORD_TOKEN": " "}) == ("slack",)
    assert configured_platforms({"DISCORD_TOKEN": "t", "SLACK_BOT_TOKEN": "x"}) == ("slack", "discord")


def test_a_new_platform_is_one_more_entry() -> None:
    matrix = Platform("Matrix", ("MATRIX_TOKEN",), "MATRIX_TOKEN", "adapters.matrix.service:service_factory")
    registry = {**PLATFORMS, "matrix": matrix}
    assert configured_platforms({"MATRIX_TOKEN": "m"}, registry) == ("matrix",)


@pytest.mark.parametrize(
    ("platform", "env", "named"),
    [
        ("slack", {"SLACK_APP_TOKEN": "xapp-1"}, "SLACK_BOT_TOKEN"),
        ("slack", {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ("discord", {"DISCORD_API_BASE": "https://x.test/api"}, "DISCORD_TOKEN"),
        ("discord", {"DISCORD_TOKEN": "t", "DISCORD_GATEWAY_URL": "https://x.test"}, "DISCORD_GATEWAY_URL"),
    ],
)
def test_a_maker_checks_its_settings_before_anything_opens(
    platform: str, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        PLATFORMS[platform].maker()(Config(), env)


def test_the_settings_come_from_the_environment_given() -> None:
    make = PLATFORMS["slack"].maker()
    assert callable(make(Config(), {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}))
    assert callable(PLATFORMS["discord"].maker()(Config(), {"DISCORD_TOKEN": "t"}))


def test_nothing_configured_names_every_platforms_credentials() -> None:
    assert nothing_configured() == (
        "no chat platform is configured, so there is nothing to run. Missing from the environment: "
        "SLACK_BOT_TOKEN with SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode) for Slack; "
        "DISCORD_TOKEN for Discord. Set one platform's, or both (`briefbot config show` lists what is set)."
    )
