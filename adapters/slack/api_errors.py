"""What a Slack Web API error says: its code, and how long a 429 asks us to wait."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

__all__ = ["error_code", "retry_after"]


def error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    except Exception:  # a malformed response must not hide the original error
        return "unknown error"


def retry_after(exc: SlackApiError, default: float = 30.0) -> float:
    headers = getattr(exc.response, "headers", None) or {}
    for key, value in headers.items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list | tuple) else value
            try:
                return max(0.0, float(raw))
            except (TypeError, ValueError):
                break
    return default
