"""Who may manage digest subscriptions in a Slack workspace."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.api_errors import error_code

__all__ = ["Managers"]

_log = logging.getLogger(__name__)


class Managers:
    """Who may manage digest subscriptions: the allow-list, else workspace admins and owners."""

    def __init__(
        self,
        client: AsyncWebClient,
        allow: Iterable[str],
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._allow = frozenset(allow)
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}

    async def is_manager(self, user: str) -> bool:
        if user in self._allow:
            return True
        cached = self._cache.get(user)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        try:
            response = await self._client.users_info(user=user)
        except SlackApiError as exc:
            # Fail closed: without users.info (e.g. the users:read scope is missing) only
            # the allow-list can grant digest management.
            _log.warning("users.info failed (%s); treating the user as not an admin", error_code(exc))
            return False
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("users.info failed (%s); treating the user as not an admin", type(exc).__name__)
            return False
        info = response.get("user") or {}
        verdict = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
        self._cache[user] = (verdict, self._clock() + self._ttl)
        return verdict
