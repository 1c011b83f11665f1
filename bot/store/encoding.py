"""How the store's values are written into columns and read back, on every backend.

Timestamps are fixed-width UTC text (``2024-03-01T09:00:00.000000Z``) whose text order
is their time order; lists and baselines are JSON text. Rows are read by column name
(``sqlite3.Row`` and psycopg's ``dict_row`` both allow it), so both backends turn a row
into exactly the same value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.conversation import MAX_QUESTION_CHARS, Turn
from bot.store.values import Delivery, Subscription
from bot.votes import REASONS, clean_note

__all__ = [
    "DELIVERY_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "attach_reason_sql",
    "checked_reason",
    "delivery_from_row",
    "dt",
    "encode_turn",
    "json_map",
    "opt_dt",
    "subscription_from_row",
    "ts",
    "turn_from_row",
]

Row = Mapping[str, Any]

SUBSCRIPTION_COLUMNS = (
    "id, platform, workspace, channel, kind, arg, schedule, tz, created_by, created_at, baseline,"
    " say_when_empty"
)
DELIVERY_COLUMNS = (
    "subscription_id, period_key, status, claimed_at, posted_at, attempts, lease_until, retry_at, "
    "recovered, title, parts, parts_done, last_error"
)


def checked_reason(reason: str, note: str) -> tuple[str, str]:
    """A 👎's reason and note as a store keeps them; a code not offered is a caller's bug
    (the adapters refuse forged ones before they get here), so it is refused loudly."""
    if reason not in REASONS:
        raise ValueError(f"not a reason briefbot offers: {reason[:40]!r}")
    return reason, clean_note(note)


def attach_reason_sql(mark: str) -> str:
    """The statement that gives a reason to its vote (``mark``: the driver's placeholder).

    The vote is the voter's newest 👎 on an answer with these entries, in this channel,
    that has no reason yet: so two answers voted down each keep their own, and a reason
    is never replaced. ``reason IS NULL`` is checked again outside the subquery, where a
    concurrent writer's change is seen (PostgreSQL re-reads a row it waited for), so of
    two reasons given at once exactly one is kept.
    """
    return (
        f"UPDATE feedback SET reason = {mark}, note = {mark} WHERE reason IS NULL AND id = ("
        " SELECT max(id) FROM feedback"
        f" WHERE user_hash = {mark} AND platform = {mark} AND workspace = {mark} AND channel = {mark}"
        f" AND entry_ids = {mark} AND helpful = 0 AND reason IS NULL)"
    )


def ts(moment: datetime) -> str:
    """A UTC timestamp whose text order is its time order (fixed width, always 'Z')."""
    if moment.tzinfo is None:
        raise ValueError("store timestamps must be aware datetimes")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dt(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def opt_dt(text: str | None) -> datetime | None:
    return None if text is None else dt(text)


def json_map(text: str | None) -> Mapping[str, str] | None:
    if text is None:
        return None
    data = json.loads(text)
    return {str(k): str(v) for k, v in data.items()}


def subscription_from_row(row: Row) -> Subscription:
    return Subscription(
        id=row["id"],
        platform=row["platform"],
        workspace=row["workspace"],
        channel=row["channel"],
        kind=row["kind"],
        arg=row["arg"],
        schedule=row["schedule"],
        tz=row["tz"],
        created_by=row["created_by"],
        created_at=dt(row["created_at"]),
        baseline=json_map(row["baseline"]),
        say_when_empty=bool(row["say_when_empty"]),
    )


def delivery_from_row(row: Row) -> Delivery:
    return Delivery(
        subscription_id=row["subscription_id"],
        period_key=row["period_key"],
        status=row["status"],
        claimed_at=dt(row["claimed_at"]),
        posted_at=opt_dt(row["posted_at"]),
        attempts=row["attempts"],
        lease_until=dt(row["lease_until"]),
        retry_at=opt_dt(row["retry_at"]),
        recovered=int(row["recovered"]),
        title=row["title"],
        parts=tuple(json.loads(row["parts"])),
        parts_done=row["parts_done"],
        last_error=row["last_error"],
    )


def encode_turn(turn: Turn) -> tuple[str, str, str]:
    """The ``entry_ids``, ``kind`` and ``question`` columns of a thread turn."""
    return json.dumps(list(turn.entry_ids)), turn.kind, turn.question[:MAX_QUESTION_CHARS]


def turn_from_row(row: Row) -> Turn:
    return Turn(
        entry_ids=tuple(str(e) for e in json.loads(row["entry_ids"])),
        kind=row["kind"],
        question=row["question"],
    )
