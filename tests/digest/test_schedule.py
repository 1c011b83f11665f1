"""Schedule parsing and run arithmetic, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from bot.digests.schedule import Schedule, ScheduleError, parse_schedule, parse_zone

BRUSSELS = "Europe/Brussels"
TOKYO = "Asia/Tokyo"


def due_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The oracle: the first instant at which the wall clock on ``day`` reads ``at`` or later.

    For a time that happens twice that is its first occurrence; for a time skipped by
    the clocks going forward it is the instant just after the gap.
    """
    wanted = datetime.combine(day, at)
    instant = wanted.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wanted:
        return instant  # exists; fold=0 is the first of two occurrences
    # In a gap: walk forward a minute at a time to the first instant past it.
    probe = datetime.combine(day, time(0)).replace(tzinfo=zone).astimezone(UTC)
    while probe.astimezone(zone).replace(tzinfo=None) < wanted:
        probe += timedelta(minutes=1)
    return probe


def runs_between(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    runs: list[datetime] = []
    cursor = start
    while True:
        slot = schedule.next_after(cursor)
        if slot.at > end:
            return runs
        runs.append(slot.at)
        cursor = slot.at


# Brussels: 31 March 2024 02:00 -> 03:00, 27 October 2024 03:00 -> 02:00.
# Tokyo has kept no DST since 1951, but the tz database holds its 1948-51 changes:
# 3 April 1949 00:00 -> 01:00 and 11 September 1949 00:00 -> (back to) 23:00 on the 10th.
TRANSITIONS = [
    (BRUSSELS, date(2024, 3, 29)),
    (BRUSSELS, date(2024, 10, 25)),
    (TOKYO, date(1949, 4, 1)),
    (TOKYO, date(1949, 9, 8)),
    (TOKYO, date(2024, 3, 29)),  # the Brussels weekends, where Tokyo must not move
    (TOKYO, date(2024, 10, 25)),
]


@pytest.mark.parametrize(("zone_name", "first_day"), TRANSITIONS)
def test_daily_runs_once_per_local_day_at_every_minute_across_dst(zone_name: str, first_day: date) -> None:
    zone = ZoneInfo(zone_name)
    days = [first_day + timedelta(days=i) for i in range(5)]
    start = datetime.combine(first_day, time(0)).replace(tzinfo=zone) - timedelta(minutes=1)
    end = datetime.combine(days[-1], time(23, 59)).replace(tzinfo=zone)
    for hour in range(24):
        for minute in (0, 30, 45):
            schedule = parse_schedule(f"daily {hour:02d}:{minute:02d}", zone_name)
            expected = [due_instant(day, time(hour, minute), zone) for day in days]
            assert runs_between(schedule, start, end) == expected, schedule


def test_the_spring_gap_runs_just_after_the_clocks_jump_in_brussels() -> None:
    schedule = parse_schedule("daily 02:30", BRUSSELS)
    slot = schedule.next_after(datetime(2024, 3, 30, 12, tzinfo=UTC))
    assert slot.at == datetime(2024, 3, 31, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert slot.key == "2024-03-31T03:00"
    assert schedule.next_after(slot.at).key == "2024-04-01T02:30"


def test_the_autumn_double_hour_runs_once_in_brussels() -> None:
    schedule = parse_schedule("daily 02:30", BRUSSELS)
    first = schedule.next_after(datetime(2024, 10, 26, 12, tzinfo=UTC))
    assert first.at == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first pass
    second = schedule.next_after(first.at)
    assert second.key == "2024-10-28T02:30"  # not 02:30 CET an hour later
    # From inside the repeated hour, the latest run is still the first 02:30, not a second one.
    inside = datetime(2024, 10, 27, 1, 45, tzinfo=UTC)  # 02:45 CET, the second pass
    assert schedule.latest_at_or_before(inside) == first
    assert schedule.next_after(inside).key == "2024-10-28T02:30"


def test_hourly_cron_names_each_local_hour_once_on_the_autumn_night() -> None:
    schedule = parse_schedule("0 * * * *", BRUSSELS)
    runs = runs_between(
        schedule, datetime(2024, 10, 26, 22, tzinfo=UTC), datetime(2024, 10, 27, 4, tzinfo=UTC)
    )
    keys = [schedule.latest_at_or_before(r).key for r in runs]
    assert len(keys) == len(set(keys))
    assert [k[-5:] for k in keys] == ["01:00", "02:00", "03:00", "04:00", "05:00"]


def test_tokyo_runs_stay_24_hours_apart_when_europe_changes_clocks() -> None:
    schedule = parse_schedule("daily 09:00", TOKYO)
    runs = runs_between(schedule, datetime(2024, 3, 28, tzinfo=UTC), datetime(2024, 4, 3, tzinfo=UTC))
    assert all(later - earlier == timedelta(hours=24) for earlier, later in pairwise(runs))
    assert all(r.hour == 0 for r in runs)  # 09:00 JST is always 00:00 UTC


def test_weekly_brussels_run_keeps_local_time_across_the_change() -> None:
    schedule = parse_schedule("weekly sun 09:00", BRUSSELS)
    runs = runs_between(schedule, datetime(2024, 3, 20, tzinfo=UTC), datetime(2024, 4, 10, tzinfo=UTC))
    assert [r.astimezone(ZoneInfo(BRUSSELS)).strftime("%d %H:%M") for r in runs] == [
        "24 09:00",
        "31 09:00",
        "07 09:00",
    ]
    assert runs[1] - runs[0] == timedelta(hours=167)  # one hour shorter: the clocks went forward


def test_latest_at_or_before_includes_a_run_due_exactly_now() -> None:
    schedule = parse_schedule("daily 09:00", "UTC")
    exactly = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)
    assert schedule.latest_at_or_before(exactly).at == exactly
    assert schedule.latest_at_or_before(exactly - timedelta(seconds=1)).at == exactly - timedelta(days=1)
    assert schedule.next_after(exactly).at == exactly + timedelta(days=1)


def test_monthly_last_runs_on_the_last_day_of_each_month() -> None:
    schedule = parse_schedule("monthly last 18:00", TOKYO)
    runs = runs_between(schedule, datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 4, 15, tzinfo=UTC))
    assert [r.astimezone(ZoneInfo(TOKYO)).date() for r in runs] == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
    ]


@pytest.mark.parametrize(
    ("text", "canonical", "cron"),
    [
        ("daily 9:00", "daily 09:00", "0 9 * * *"),
        ("weekly Monday 17:30", "weekly mon 17:30", "30 17 * * 1"),
        ("weekly sun 08:00", "weekly sun 08:00", "0 8 * * 0"),
        ("monthly 1st 07:15", "monthly 1 07:15", "15 7 1 * *"),
        ("0 9 * * MON-FRI", "0 9 * * mon-fri", "0 9 * * mon-fri"),
    ],
)
def test_schedules_are_read_into_one_canonical_form(text: str, canonical: str, cron: str) -> None:
    schedule = parse_schedule(text)
    assert (schedule.text, schedule.cron, schedule.tz) == (canonical, cron, "UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily 25:00", "not a time of day"),
        ("weekly funday 09:00", "mon, tue, wed, thu, fri, sat, sun"),
        ("monthly 31 09:00", "use a day from 1 to 28, or `last`"),
        ("* 9 * * *", "at most once an hour"),
        ("0 9 * *", "incomplete"),
        ("0 0 30 2 *", "never runs"),
        ("hourly", "“hourly” is not a schedule"),
        ("0 9 1#2 * *", "day of month field"),
        ("daily 09:00 UTC and more", "I don't understand “and more”"),
    ],
)
def test_a_bad_schedule_says_what_is_wrong_and_what_is_valid(text: str, expected: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(text)
    assert expected in str(caught.value)


def test_every_schedule_error_lists_the_valid_forms_or_values() -> None:
    for text in ("daily 9", "fortnightly", "0 9 * * * *"):
        with pytest.raises(ScheduleError) as caught:
            parse_schedule(text)
        assert "`daily HH:MM`" in str(caught.value)


def test_zones_are_case_insensitive_and_unknown_ones_get_suggestions() -> None:
    assert parse_zone("europe/brussels") == BRUSSELS
    assert parse_zone(None) == "UTC"
    assert parse_zone("utc") == "UTC"
    with pytest.raises(ScheduleError) as caught:
        parse_zone("Tokio")
    assert "Did you mean Asia/Tokyo?" in str(caught.value)
    with pytest.raises(ScheduleError) as caught:
        parse_zone("Mars/Olympus_Mons")
    assert "Europe/Brussels, Asia/Tokyo" in str(caught.value)
    with pytest.raises(ScheduleError):
        parse_zone("../../etc/passwd")


def test_schedule_arithmetic_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_schedule("daily 09:00").next_after(datetime(2024, 1, 1))
