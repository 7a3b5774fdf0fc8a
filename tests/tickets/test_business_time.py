"""Business-time arithmetic (tickets/business_time.py): properties over random hours, instants and durations,
and the cases people get wrong: daylight saving both ways, holidays, spans past midnight, never open. Many
instants read at once (``open_seconds``) must agree with ``between``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tickets.business_time import ALWAYS, Hours, NeverOpen, open_seconds, weekly

BERLIN, NEW_YORK, SYDNEY = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney")
NINE_TO_FIVE = weekly([(time(9), time(17))])
SPLIT_DAY = weekly([(time(9), time(12, 30)), (time(13, 30), time(17))])
NIGHTS = weekly([(time(22), time(6))])


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone)


# --- Properties ------------------------------------------------------------------------------------------

zones = st.sampled_from([BERLIN, NEW_YORK, SYDNEY, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")])
quarter_hours = st.integers(min_value=0, max_value=95).map(lambda q: time(q // 4, q % 4 * 15))
spans = st.tuples(quarter_hours, quarter_hours)
week = st.lists(st.lists(spans, max_size=2).map(tuple), min_size=7, max_size=7).filter(any).map(tuple)
closed_days = st.sets(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), max_size=20)
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=30 * 24 * 60).map(lambda minutes: timedelta(minutes=minutes))


@st.composite
def any_hours(draw: st.DrawFn) -> Hours:
    return Hours(draw(zones), draw(week), {day: () for day in draw(closed_days)})


@st.composite
def hours_with_odd_days(draw: st.DrawFn) -> Hours:
    """Hours (some open around the clock) whose dates may be closed, short or long: holidays, half days, a
    night shift past midnight."""
    days = draw(st.dictionaries(st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
                                st.lists(spans, max_size=2).map(tuple), max_size=20))  # fmt: skip
    return Hours(draw(zones), draw(st.one_of(week, st.just((ALWAYS,) * 7))), days)


@settings(max_examples=300, deadline=None)
@given(any_hours(), instants, durations)
def test_adding_then_measuring_gives_back_the_duration(hours, start, duration):
    end = hours.add(start, duration)
    assert end >= start
    assert hours.between(start, end) == duration


@settings(max_examples=300, deadline=None)
@given(any_hours(), instants, durations)
def test_an_added_time_never_falls_in_closed_time(hours, start, duration):
    end = hours.add(start, duration)
    if duration:
        # open just before it: the time ran out while the desk was open
        assert hours.is_open(end - timedelta(microseconds=1))
        assert end == hours.add(hours.next_open(start), duration)  # closed time before it counts for nothing
    else:
        assert end == start


@settings(max_examples=200, deadline=None)
@given(any_hours(), instants)
def test_the_next_open_moment_is_open_and_nothing_before_it_is(hours, start):
    opens = hours.next_open(start)
    assert opens >= start
    assert hours.is_open(opens)
    assert hours.between(start, opens) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(zones, instants, durations)
def test_around_the_clock_business_time_is_elapsed_time(zone, start, duration):
    hours = Hours.around_the_clock(zone)
    assert hours.add(start, duration) == start + duration
    assert hours.between(start, start + duration) == duration


@settings(max_examples=200, deadline=None)
@given(any_hours(), instants, durations, durations)
def test_measuring_adds_up_over_a_split(hours, start, first, second):
    middle, end = start + first, start + first + second
    assert hours.between(start, end) == hours.between(start, middle) + hours.between(middle, end)


@settings(max_examples=300, deadline=None)
@given(hours_with_odd_days(), st.lists(instants, min_size=1, max_size=6))
def test_open_seconds_differ_by_the_business_time_between_them(hours, moments):
    readings = open_seconds(hours, [moment.timestamp() for moment in moments])

    for (first, a), (second, b) in pairwise(sorted(zip(moments, readings, strict=True))):
        assert b - a == pytest.approx(hours.between(first, second).total_seconds(), abs=1e-5)
    assert readings.min() == pytest.approx(0, abs=1e-5)  # read from the earliest instant


@settings(max_examples=100, deadline=None)
@given(zones, st.lists(instants, min_size=1, max_size=6))
def test_open_seconds_around_the_clock_are_elapsed_seconds(zone, moments):
    epoch = np.array([moment.timestamp() for moment in moments])

    assert (open_seconds(Hours.around_the_clock(zone), epoch) == epoch - epoch.min()).all()


# --- The cases people get wrong ---------------------------------------------------------------------------


def test_a_friday_afternoon_target_runs_on_monday():
    hours = Hours(BERLIN, NINE_TO_FIVE)
    friday = at(BERLIN, 2026, 12, 4, 16, 30)
    assert hours.add(friday, timedelta(hours=8)) == at(BERLIN, 2026, 12, 7, 16, 30)
    assert hours.next_open(at(BERLIN, 2026, 12, 5, 3, 0)) == at(BERLIN, 2026, 12, 7, 9, 0)


def test_the_lunch_break_is_not_business_time():
    hours = Hours(BERLIN, SPLIT_DAY)
    assert hours.add(at(BERLIN, 2026, 12, 7, 12, 0), timedelta(hours=1)) == at(BERLIN, 2026, 12, 7, 14, 0)
    assert hours.between(at(BERLIN, 2026, 12, 7, 9), at(BERLIN, 2026, 12, 7, 17)) == timedelta(hours=7)


def test_a_holiday_moves_a_due_time_and_a_half_day_shortens_one():
    christmas_eve, christmas = date(2026, 12, 24), date(2026, 12, 25)  # Thursday, Friday
    hours = Hours(BERLIN, NINE_TO_FIVE, {christmas_eve: ((time(9), time(12)),), christmas: ()})
    wednesday = at(BERLIN, 2026, 12, 23, 16, 0)
    # 1 h on Wednesday, 3 h on the half day, nothing on Christmas, the last 4 h on Monday
    assert hours.add(wednesday, timedelta(hours=8)) == at(BERLIN, 2026, 12, 28, 13, 0)


def test_a_holiday_on_a_weekend_changes_nothing():
    plain = Hours(BERLIN, NINE_TO_FIVE)
    with_saturday_off = Hours(BERLIN, NINE_TO_FIVE, {date(2026, 12, 26): ()})
    friday = at(BERLIN, 2026, 12, 4, 10)
    assert with_saturday_off.add(friday, timedelta(hours=20)) == plain.add(friday, timedelta(hours=20))


@pytest.mark.parametrize(
    ("zone", "night"),
    [
        (BERLIN, date(2026, 3, 29)),  # clocks forward at 02:00
        (BERLIN, date(2026, 10, 25)),  # clocks back at 03:00
        (NEW_YORK, date(2026, 3, 8)),
        (NEW_YORK, date(2026, 11, 1)),
        (SYDNEY, date(2026, 4, 5)),  # the southern autumn: clocks back
        (SYDNEY, date(2026, 10, 4)),  # and forward
    ],
)
def test_a_night_span_over_a_daylight_saving_change_is_its_real_length(zone, night):
    hours = Hours(zone, (((time(0), time(6)),),) * 7)
    start = datetime.combine(night, time(0), tzinfo=zone)
    six = datetime.combine(night, time(6), tzinfo=zone)
    real = six.astimezone(UTC) - start.astimezone(UTC)
    assert real != timedelta(hours=6)  # the change is in the span
    assert hours.between(start, six) == real
    assert hours.add(start, real) == six.astimezone(UTC)


def test_a_span_past_midnight_belongs_to_the_day_it_starts():
    hours = Hours(BERLIN, NIGHTS)  # Monday to Friday nights, 22:00 to 06:00 the next morning
    friday_night = at(BERLIN, 2026, 12, 4, 23, 0)
    assert hours.is_open(at(BERLIN, 2026, 12, 5, 5, 0))  # Saturday morning: Friday's night
    assert not hours.is_open(at(BERLIN, 2026, 12, 6, 1, 0))  # Sunday morning: no Saturday night
    assert hours.add(friday_night, timedelta(hours=8)) == at(BERLIN, 2026, 12, 7, 23, 0)


def test_hours_never_open_are_refused_with_a_message():
    with pytest.raises(NeverOpen, match="never open"):
        Hours(BERLIN, ((),) * 7)
    with pytest.raises(ValueError, match="seven weekdays"):
        Hours(BERLIN, NINE_TO_FIVE[:5])
    closed_for_years = Hours(BERLIN, NINE_TO_FIVE, {date(2026, 1, 1) + timedelta(days=n): () for n in range(800)})
    with pytest.raises(NeverOpen, match="no open time in"):
        closed_for_years.next_open(at(BERLIN, 2026, 1, 1, 9))


def test_naive_instants_and_negative_durations_are_refused():
    hours = Hours(BERLIN, NINE_TO_FIVE)
    with pytest.raises(ValueError, match="aware"):
        hours.next_open(datetime(2026, 12, 7, 9))
    with pytest.raises(ValueError, match="zero or more"):
        hours.add(at(BERLIN, 2026, 12, 7, 9), timedelta(hours=-1))


def test_answers_far_ahead_are_found_however_far():
    hours = Hours.around_the_clock()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert hours.add(start, timedelta(days=1000)) == start + timedelta(days=1000)
    assert Hours(BERLIN, NINE_TO_FIVE).between(start, start + timedelta(days=1500)) > timedelta(days=300)


def test_a_span_starting_in_the_hour_the_clocks_skip_keeps_the_spans_after_it():
    # On 29 March 2026 Berlin's clocks go from 02:00 to 03:00: 02:30 reads as 03:30 summer time.
    hours = Hours(BERLIN, (((time(2, 30), time(2, 45)), (time(3), time(4))),) * 7)
    night = date(2026, 3, 29)
    assert hours.is_open(at(BERLIN, 2026, 3, 29, 3, 10))
    assert hours.between(
        datetime.combine(night, time(0), tzinfo=BERLIN), datetime.combine(night, time(6), tzinfo=BERLIN)
    ) == timedelta(hours=1)  # 03:00-04:00, which the skipped span (03:30-03:45 in real time) lies inside


@settings(max_examples=200, deadline=None)
@given(any_hours(), instants)
def test_the_next_business_day_ends_later_in_open_time(hours, start):
    end = hours.end_of_next_open_day(start)

    assert end > start
    assert hours.is_open(end - timedelta(microseconds=1))
    assert hours.between(start, end) > timedelta(0)


def test_the_next_business_day_after_a_friday_is_monday_and_skips_a_holiday():
    berlin = ZoneInfo("Europe/Berlin")
    hours = Hours(berlin, NINE_TO_FIVE, {date(2026, 12, 7): ()})

    assert hours.end_of_next_open_day(at(berlin, 2026, 12, 4, 10)) == at(berlin, 2026, 12, 8, 17)
    assert hours.end_of_next_open_day(at(berlin, 2026, 12, 8, 8)) == at(berlin, 2026, 12, 9, 17)
    split = Hours(berlin, SPLIT_DAY)
    assert split.end_of_next_open_day(at(berlin, 2026, 12, 8, 8)) == at(berlin, 2026, 12, 9, 17)


def test_open_seconds_skip_nights_weekends_and_holidays():
    hours = Hours(BERLIN, NINE_TO_FIVE, {date(2026, 12, 25): ()})
    moments = [at(BERLIN, 2026, 12, 24, 16), at(BERLIN, 2026, 12, 26, 12), at(BERLIN, 2026, 12, 28, 10)]

    readings = open_seconds(hours, [moment.timestamp() for moment in moments])

    # Thursday 16:00 to 17:00, nothing on Christmas Friday or the weekend, Monday 09:00 to 10:00.
    assert readings.tolist() == [0.0, 3600.0, 7200.0]


def test_open_seconds_of_hours_open_around_the_clock_but_a_holiday_count_the_holiday_out():
    hours = Hours(BERLIN, (ALWAYS,) * 7, {date(2026, 12, 25): ()})
    eve, boxing_day = at(BERLIN, 2026, 12, 24, 12), at(BERLIN, 2026, 12, 26, 12)

    readings = open_seconds(hours, [eve.timestamp(), boxing_day.timestamp()])

    assert readings[1] - readings[0] == 24 * 3600


def test_open_seconds_across_a_daylight_saving_night_are_real_seconds():
    hours = Hours(BERLIN, (((time(22), time(6)),),) * 7)  # a night shift, past midnight
    forward = [at(BERLIN, 2026, 3, 28, 22).timestamp(), at(BERLIN, 2026, 3, 29, 6).timestamp()]
    back = [at(BERLIN, 2026, 10, 24, 22).timestamp(), at(BERLIN, 2026, 10, 25, 6).timestamp()]

    assert np.diff(open_seconds(hours, forward)).tolist() == [7 * 3600.0]  # the clocks went forward an hour
    assert np.diff(open_seconds(hours, back)).tolist() == [9 * 3600.0]  # and back


def test_open_seconds_of_unresolved_instants_stay_infinite_and_closed_stretches_read_zero():
    hours = Hours(BERLIN, NINE_TO_FIVE)
    saturday, sunday = at(BERLIN, 2026, 12, 5, 10).timestamp(), at(BERLIN, 2026, 12, 6, 10).timestamp()

    assert open_seconds(hours, [saturday, np.inf, sunday]).tolist() == [0.0, np.inf, 0.0]
    assert open_seconds(hours, [np.inf]).tolist() == [np.inf]


def test_inside_a_night_shift_the_business_day_is_the_one_it_started_on():
    berlin = ZoneInfo("Europe/Berlin")
    nights = Hours(berlin, NIGHTS)

    assert nights.end_of_next_open_day(at(berlin, 2026, 12, 7, 23)) == at(berlin, 2026, 12, 9, 6)
    assert nights.end_of_next_open_day(at(berlin, 2026, 12, 8, 1)) == at(berlin, 2026, 12, 9, 6)  # still Monday's
