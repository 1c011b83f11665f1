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
        failure_ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._allow = frozenset(allow)
        self._ttl = ttl
        self._failure_ttl = failure_ttl
        self._clock = clock
        self._cache: dict[str, tuple[bool, float]] = {}
        self._warned: dict[str, float] = {}  # failure reason -> until when it is not logged again

    async def is_manager(self, user: str) -> bool:
        if user in self._allow:
            return True
        cached = self._cache.get(user)
        if cached is not None and cached[1] > self._clock():
            return cached[0]
        try:
            response = await self._client.users_info(user=user)
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            # Fail closed: without users.info (e.g. the users:read scope is missing) only
            # the allow-list can grant digest management. The failure is remembered for a
            # short while too, so a user Slack does not know, asking again and again, costs
            # one call and one warning, not one each time (#14.10).
            reason = error_code(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
            self._cache[user] = (False, self._clock() + self._failure_ttl)
            self._warn(reason)
            return False
        info = response.get("user") or {}
        verdict = bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))
        self._cache[user] = (verdict, self._clock() + self._ttl)
        return verdict

    def _warn(self, reason: str) -> None:
        now = self._clock()
        if self._warned.get(reason, 0.0) > now:
            _log.debug("users.info failed (%s) again", reason)
            return
        self._warned[reason] = now + self._failure_ttl
        _log.warning(
            "users.info failed (%s); treating the user as not an admin (the same failure is not "
            "logged again for %d s)",
            reason,
            self._failure_ttl,
        )
