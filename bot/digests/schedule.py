"""When a digest subscription runs: `daily`, `weekly`, `monthly` or cron, in an IANA zone.

Cron arithmetic is croniter's; this module adds only the policy a chat channel needs at
daylight-saving changes, which cron leaves open (croniter by itself fires a `02:30` job
twice on the night the clocks go back):

- a wall-clock time that does not exist (clocks go forward) runs at the first instant
  after the gap, so no run is skipped;
- a wall-clock time that happens twice (clocks go back) runs once, at its first
  occurrence, so no run is doubled.

Every run is named by its local wall-clock time (``Slot.key``), which the store uses as
the delivery's period key: even a bug here could not post one local time twice.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from bot.errors import BriefbotError

__all__ = [
    "DEFAULT_TZ",
    "SCHEDULE_HELP",
    "WEEKDAYS",
    "Schedule",
    "ScheduleError",
    "Slot",
    "parse_schedule",
    "parse_schedule_words",
    "parse_zone",
]

DEFAULT_TZ = "UTC"
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

SCHEDULE_HELP = (
    "Schedules: `daily HH:MM`, `weekly <mon…sun> HH:MM`, `monthly <1-28 | last> HH:MM`, "
    "or a 5-field cron expression `minute hour day month weekday` such as `0 9 * * mon-fri`; "
    "then, optionally, an IANA time zone such as Europe/Brussels, Asia/Tokyo or UTC (the default)."
)

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_CRON_NUMERIC = re.compile(r"^[0-9*,/-]+$")
_CRON_MONTH = re.compile(r"^(?:[0-9*,/-]|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)+$")
_CRON_WEEKDAY = re.compile(r"^(?:[0-9*,/-]|mon|tue|wed|thu|fri|sat|sun)+$")
_CRON_FIELDS = ("minute", "hour", "day of month", "month", "day of week")
# A day-of-month past 28 is missing from some months; cron would skip those silently.
_MAX_MONTH_DAY = 28
# croniter looks this many steps around a DST change before giving up; four is plenty
# because at most one neighbouring result is ever discarded.
_MAX_STEPS = 4


class ScheduleError(BriefbotError, ValueError):
    """A schedule or time zone a user typed is invalid; the message says what is valid."""


@dataclass(frozen=True, order=True)
class Slot:
    """One run of a schedule: the instant it is due and the local time it is named by."""

    at: datetime  # aware, UTC
    local: datetime  # aware, in the schedule's zone

    @property
    def key(self) -> str:
        """The run's name, unique per subscription: its local wall-clock minute."""
        return self.local.strftime("%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the form the user gave, its cron equivalent and its zone."""

    text: str
    cron: str
    tz: str = DEFAULT_TZ

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def next_after(self, instant: datetime) -> Slot:
        """The first run strictly after ``instant`` (an aware datetime)."""
        _require_aware(instant)
        steps = croniter(self.cron, instant.astimezone(self.zone))
        for _ in range(_MAX_STEPS):
            local = steps.get_next(datetime)
            slot = Slot(local.astimezone(UTC), local)
            if not _second_pass(local) and slot.at > instant:
                return slot
        raise AssertionError(f"no run of {self.cron!r} after {instant}")  # pragma: no cover

    def latest_at_or_before(self, instant: datetime) -> Slot:
        """The most recent run at or before ``instant`` (an aware datetime)."""
        _require_aware(instant)
        # croniter's get_prev excludes its start, so start a second later to include a
        # run that is due exactly now; anything later than ``instant`` is stepped over.
        steps = croniter(self.cron, (instant + timedelta(seconds=1)).astimezone(self.zone))
        for _ in range(_MAX_STEPS):
            local = steps.get_prev(datetime)
            slot = Slot(local.astimezone(UTC), local)
            if not _second_pass(local) and slot.at <= instant:
                return slot
        raise AssertionError(f"no run of {self.cron!r} before {instant}")  # pragma: no cover

    def describe(self) -> str:
        """'every Monday at 09:00 (Europe/Brussels)'."""
        words = self.text.split()
        if words[0] == "daily":
            when = f"every day at {words[1]}"
        elif words[0] == "weekly":
            day = next(d for d in WEEKDAYS if d.startswith(words[1]))
            when = f"every {day.capitalize()} at {words[2]}"
        elif words[0] == "monthly":
            day = "the last day" if words[1] == "last" else f"day {words[1]}"
            when = f"on {day} of each month at {words[2]}"
        else:
            when = f"cron `{self.cron}`"
        return f"{when} ({self.tz})"


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("schedule arithmetic needs an aware datetime (a naive one has no zone)")


def _second_pass(local: datetime) -> bool:
    """True for the second occurrence of a wall-clock time that happens twice."""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


# -- parsing -------------------------------------------------------------------


@cache
def _zones_by_folded_name() -> dict[str, str]:
    # Read once: scanning the tz database takes tens of milliseconds.
    return {name.casefold(): name for name in available_timezones()}


def parse_zone(name: str | None) -> str:
    """The canonical IANA name for ``name`` (case-insensitive); default UTC."""
    if name is None or not name.strip():
        return DEFAULT_TZ
    wanted = name.strip()
    if wanted.casefold() in ("utc", "z", "gmt", "etc/utc"):
        return DEFAULT_TZ
    zones = _zones_by_folded_name()
    canonical = zones.get(wanted.casefold())
    if canonical is not None:
        try:
            ZoneInfo(canonical)
        except (ZoneInfoNotFoundError, ValueError):  # listed but unreadable: a broken tz install
            canonical = None
    if canonical is None:
        raise ScheduleError(f"“{wanted[:40]}” is not a time zone I know. {_zone_hint(wanted, zones)}")
    return canonical


def _zone_hint(wanted: str, zones: dict[str, str]) -> str:
    folded = wanted.casefold().replace(" ", "_")
    # People type the city ("Tokyo") more often than the region, so match on both.
    by_city = {key.rsplit("/", 1)[-1]: name for key, name in zones.items() if "/" in key}
    close = [by_city[c] for c in difflib.get_close_matches(folded, list(by_city), n=3, cutoff=0.75)]
    close += [zones[c] for c in difflib.get_close_matches(folded, list(zones), n=3, cutoff=0.75)]
    unique = list(dict.fromkeys(close))[:3]
    guess = f"Did you mean {' or '.join(unique)}? " if unique else ""
    return (
        f"{guess}Use an IANA time zone name (Region/City) such as Europe/Brussels, Asia/Tokyo, "
        "America/New_York or UTC."
    )


def _parse_time(text: str) -> tuple[int, int]:
    match = _TIME.match(text)
    if match is None:
        raise ScheduleError(
            f"“{text[:20]}” is not a time of day; write it as 24-hour HH:MM, e.g. 09:00 or 17:30. "
            + SCHEDULE_HELP
        )
    return int(match.group(1)), int(match.group(2))


def _parse_weekday(text: str) -> int:
    folded = text.casefold().rstrip("s") if len(text) > 3 else text.casefold()
    for index, day in enumerate(WEEKDAYS):
        if folded in (day, day[:3]):
            return (index + 1) % 7  # cron counts Sunday as 0
    valid = ", ".join(day[:3] for day in WEEKDAYS)
    raise ScheduleError(f"“{text[:20]}” is not a day of the week; use one of {valid} (or the full name).")


def _parse_month_day(text: str) -> str:
    folded = text.casefold()
    if folded == "last":
        return "L"
    digits = re.sub(r"(?:st|nd|rd|th)$", "", folded)
    if digits.isdigit() and 1 <= int(digits) <= _MAX_MONTH_DAY:
        return str(int(digits))
    if digits.isdigit() and int(digits) <= 31:
        raise ScheduleError(
            f"Day {int(digits)} is missing from some months, so those months would get no digest; "
            f"use a day from 1 to {_MAX_MONTH_DAY}, or `last` for the last day of each month."
        )
    raise ScheduleError(
        f"“{text[:20]}” is not a day of the month; use a day from 1 to {_MAX_MONTH_DAY}, or `last`."
    )


def _parse_cron(fields: Sequence[str]) -> str:
    folded = [f.casefold() for f in fields]
    patterns = (_CRON_NUMERIC, _CRON_NUMERIC, _CRON_NUMERIC, _CRON_MONTH, _CRON_WEEKDAY)
    for name, value, pattern in zip(_CRON_FIELDS, folded, patterns, strict=True):
        allowed = pattern.match(value) or (name == "day of month" and value == "l")
        if not allowed:
            raise ScheduleError(f"The cron {name} field “{value[:20]}” is not valid. {SCHEDULE_HELP}")
    if not folded[0].isdigit():
        # One minute value means at most one digest an hour: a channel is not a log stream.
        raise ScheduleError(
            "A digest can go out at most once an hour, so the cron minute field must be one "
            f"number from 0 to 59 (e.g. `0 9 * * mon-fri`), not “{folded[0][:20]}”."
        )
    expression = " ".join(folded).replace(" l ", " L ")
    if not croniter.is_valid(expression):
        raise ScheduleError(f"“{expression}” is not a valid cron expression. {SCHEDULE_HELP}")
    try:
        croniter(expression, datetime(2024, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterBadDateError, CroniterBadCronError):
        raise ScheduleError(
            f"“{expression}” never runs (no calendar date matches it). {SCHEDULE_HELP}"
        ) from None
    return expression


def parse_schedule_words(words: Sequence[str], default_zone: str | None = None) -> Schedule:
    """A schedule followed by an optional time zone, as the words a user typed
    (``default_zone`` when none is given; UTC unless configured)."""
    words = [w.strip("`'\"") for w in words if w.strip("`'\"")]
    if not words:
        raise ScheduleError(f"A schedule is missing. {SCHEDULE_HELP}")
    head = words[0].casefold()
    if head not in ("daily", "weekly", "monthly") and head[:1].isalpha():
        raise ScheduleError(f"“{words[0][:20]}” is not a schedule. {SCHEDULE_HELP}")
    size = {"daily": 2, "weekly": 3, "monthly": 3}.get(head, 5)
    if len(words) < size:
        form = {2: "`daily HH:MM`", 3: f"`{head} <day> HH:MM`"}.get(size, "a 5-field cron expression")
        raise ScheduleError(f"“{' '.join(words)[:60]}” is incomplete: expected {form}. {SCHEDULE_HELP}")
    if len(words) > size + 1:
        extra = " ".join(words[size + 1 :])
        raise ScheduleError(f"I don't understand “{extra[:40]}” after the time zone. {SCHEDULE_HELP}")
    if size == 5 and len(words) == 6 and not any(c.isalpha() for c in words[5]):
        raise ScheduleError(
            f"“{' '.join(words)[:60]}” has 6 fields; a cron expression here has exactly 5 "
            f"(no seconds field). {SCHEDULE_HELP}"
        )
    tz = parse_zone(words[size] if len(words) > size else default_zone)
    if head == "daily":
        hour, minute = _parse_time(words[1])
        return Schedule(f"daily {hour:02d}:{minute:02d}", f"{minute} {hour} * * *", tz)
    if head == "weekly":
        weekday = _parse_weekday(words[1])
        hour, minute = _parse_time(words[2])
        name = WEEKDAYS[(weekday - 1) % 7][:3]
        return Schedule(f"weekly {name} {hour:02d}:{minute:02d}", f"{minute} {hour} * * {weekday}", tz)
    if head == "monthly":
        day = _parse_month_day(words[1])
        hour, minute = _parse_time(words[2])
        label = "last" if day == "L" else day
        return Schedule(f"monthly {label} {hour:02d}:{minute:02d}", f"{minute} {hour} {day} * *", tz)
    expression = _parse_cron(words[:5])
    return Schedule(expression, expression, tz)


def parse_schedule(text: str, tz: str | None = None) -> Schedule:
    """Parse ``text`` (``'weekly mon 09:00'``, ``'0 9 * * 1'``…) in zone ``tz``."""
    return parse_schedule_words([*text.split(), *([tz] if tz else [])])
