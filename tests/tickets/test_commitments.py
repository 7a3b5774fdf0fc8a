"""The phrase detector: the times a reply commits to, read in the customer's zone, and the words that only
mention a time.

Unless a test says otherwise it is Monday 7 December 2026, 14:00 UTC: 09:00 for a customer in New York.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tickets.commitments import find_commitments

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
NEW_YORK = ZoneInfo("America/New_York")


def found(text: str, zone: ZoneInfo = NEW_YORK, now: datetime = NOW) -> list[tuple[str, str]]:
    """(phrase, due time in ``zone`` as "YYYY-MM-DD HH:MM") for each commitment found."""
    return [
        (commitment.phrase, f"{commitment.due_at.astimezone(zone):%Y-%m-%d %H:%M}")
        for commitment in find_commitments(text, zone=zone, now=now)
    ]


# (the reply, the words that promise, when they are due for the customer in New York)
PROMISES = [
    ("I'll get back to you by 3pm tomorrow.", "by 3pm tomorrow", "2026-12-08 15:00"),
    ("We will have an answer within two hours.", "within two hours", "2026-12-07 11:00"),
    ("You should hear from us in 30 minutes.", "in 30 minutes", "2026-12-07 09:30"),
    ("I'll have this fixed by end of day.", "by end of day", "2026-12-07 17:00"),
    ("We'll have the refund sorted by Friday.", "by Friday", "2026-12-11 17:00"),
    ("I'll call you tomorrow morning.", "tomorrow morning", "2026-12-08 12:00"),
    ("Expect the replacement by Monday 9am.", "by Monday 9am", "2026-12-14 09:00"),
    ("I will reply by 17:00 today.", "by 17:00 today", "2026-12-07 17:00"),
    ("We'll be done no later than Thursday 5pm.", "no later than Thursday 5pm", "2026-12-10 17:00"),
    ("You'll have it by noon tomorrow.", "by noon tomorrow", "2026-12-08 12:00"),
    ("We'll confirm by 10 December.", "by 10 December", "2026-12-10 17:00"),
    ("I'll update you within 24 hours.", "within 24 hours", "2026-12-08 09:00"),
    ("We will ship it within 48 hours.", "within 48 hours", "2026-12-09 09:00"),
    ("I'll call you back in an hour.", "in an hour", "2026-12-07 10:00"),
    ("The technician will call by tonight.", "by tonight", "2026-12-07 21:00"),
    ("I'll send the invoice later today.", "today", "2026-12-07 17:00"),
    ("I'll get back to you by close of business.", "by close of business", "2026-12-07 17:00"),
    ("We'll have it fixed by EOD.", "by EOD", "2026-12-07 17:00"),
    ("I'll confirm by COB tomorrow.", "by COB tomorrow", "2026-12-08 17:00"),
    ("I'll check and reply before 5pm.", "before 5pm", "2026-12-07 17:00"),
    ("We'll have the part by 5 p.m.", "by 5 p.m.", "2026-12-07 17:00"),
    ("We'll refund you in 3 days.", "in 3 days", "2026-12-10 17:00"),
    ("I'll get back to you by Dec 10.", "by Dec 10", "2026-12-10 17:00"),
    ("I'll call you first thing tomorrow.", "first thing tomorrow", "2026-12-08 09:00"),
    ("I'll have news for you by this afternoon.", "by this afternoon", "2026-12-07 17:00"),
    ("I'll call you within 1 hour.", "within 1 hour", "2026-12-07 10:00"),
    ("We'll sort it by tomorrow.", "by tomorrow", "2026-12-08 17:00"),
    ("I'll ring you on Wednesday at 10am.", "on Wednesday at 10am", "2026-12-09 10:00"),
    ("We will deliver by Friday at 5pm.", "by Friday at 5pm", "2026-12-11 17:00"),
    ("I'll email you by Wednesday 14:30.", "by Wednesday 14:30", "2026-12-09 14:30"),
    ("I'll have an update for you at 10:30 tomorrow.", "at 10:30 tomorrow", "2026-12-08 10:30"),
    ("We'll be back to you in 15 minutes.", "in 15 minutes", "2026-12-07 09:15"),
    ("I'll call you back in 2 days.", "in 2 days", "2026-12-09 17:00"),
    ("Expect a reply by the end of the week.", "by the end of the week", "2026-12-11 17:00"),
    ("I'll get this to you by Tuesday morning.", "by Tuesday morning", "2026-12-08 12:00"),
    ("We should have the fix by Friday afternoon.", "by Friday afternoon", "2026-12-11 17:00"),
    ("I'll follow up this evening.", "this evening", "2026-12-07 21:00"),
    ("We'll have it done by midday tomorrow.", "by midday tomorrow", "2026-12-08 12:00"),
    ("I'll confirm within half an hour.", "within half an hour", "2026-12-07 09:30"),
    ("Your refund will be processed within 2 days.", "within 2 days", "2026-12-09 17:00"),
    ("Your refund will be processed within a day.", "within a day", "2026-12-08 17:00"),
    ("I'll send you a label by 11am.", "by 11am", "2026-12-07 11:00"),
    ("We'll have the engineer there by 8 December.", "by 8 December", "2026-12-08 17:00"),
    ("I promise to reply by 4pm.", "by 4pm", "2026-12-07 16:00"),
    ("I'll give you a call in a couple of hours.", "in a couple of hours", "2026-12-07 11:00"),
    ("We will get back to you by Monday.", "by Monday", "2026-12-07 17:00"),  # today: 17:00 is still ahead
    ("You will hear from me by 9:30 tomorrow.", "by 9:30 tomorrow", "2026-12-08 09:30"),
    ("We aim to fix this within three hours.", "within three hours", "2026-12-07 12:00"),
    ("I'll have the answer by 10am on Wednesday.", "by 10am on Wednesday", "2026-12-09 10:00"),
    ("Don't worry, I'll call you by 3pm.", "by 3pm", "2026-12-07 15:00"),
    ("I'll reply within the hour.", "within the hour", "2026-12-07 10:00"),
    ("We\u2019ll call you tomorrow afternoon.", "tomorrow afternoon", "2026-12-08 17:00"),  # a typographic apostrophe
    ("I'll have it by Monday, 14 December.", "by Monday, 14 December", "2026-12-14 17:00"),
    ("We'll have an answer in a week.", "in a week", "2026-12-14 17:00"),
    ("I'll call you by 3pm CET tomorrow.", "by 3pm CET tomorrow", "2026-12-08 09:00"),  # 15:00 in Paris
    (
        "Hi Dave,\n\nThanks for waiting. I have asked the warehouse and I'll get back to you by 3pm tomorrow.\n\n"
        "Best,\nAlice",
        "by 3pm tomorrow",
        "2026-12-08 15:00",
    ),
]

# (the reply, when it is said, in which zone, what it promises: (words, due there)): the reviewer's cases, at the
# end of March 2026 in London (still GMT) or Berlin (CET).
LONDON, BERLIN = ZoneInfo("Europe/London"), ZoneInfo("Europe/Berlin")
THURSDAY = datetime(2026, 3, 26, 8, 0, tzinfo=UTC)  # 08:00 in London, 09:00 in Berlin
FRIDAY = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)  # 09:00 in London
FRIDAY_EVENING = datetime(2026, 3, 27, 17, 30, tzinfo=UTC)
AT_THE_END_OF_MARCH = [
    # a weekday that is today means today while its time is ahead, else next week's
    ("You'll have it by Friday.", FRIDAY, LONDON, [("by Friday", "2026-03-27 17:00")]),
    ("You'll have it by Friday.", FRIDAY_EVENING, LONDON, [("by Friday", "2026-04-03 17:00")]),
    ("We'll respond by Thursday.", THURSDAY, BERLIN, [("by Thursday", "2026-03-26 17:00")]),
    ("We'll respond by Thursday 10am.", THURSDAY, BERLIN, [("by Thursday 10am", "2026-03-26 10:00")]),
    ("We'll respond by Thursday 9am.", THURSDAY, BERLIN, [("by Thursday 9am", "2026-04-02 09:00")]),
    ("You'll have it by next Friday.", FRIDAY, LONDON, [("by next Friday", "2026-04-03 17:00")]),
    ("You'll have it by Friday 3 April.", FRIDAY, LONDON, [("by Friday 3 April", "2026-04-03 17:00")]),
    # a clock time next to a day is that day's
    ("I'll reply by 10am next Tuesday.", FRIDAY, LONDON, [("by 10am next Tuesday", "2026-03-31 10:00")]),
    ("I'll reply by 10:30am next Tuesday.", FRIDAY, LONDON, [("by 10:30am next Tuesday", "2026-03-31 10:30")]),
    ("I'll reply next Tuesday at 10am.", FRIDAY, LONDON, [("next Tuesday at 10am", "2026-03-31 10:00")]),
    # an explicit hour wins over the part of the day
    ("I'll call you by 9pm tonight.", FRIDAY, LONDON, [("by 9pm tonight", "2026-03-27 21:00")]),
    ("I'll call you by 9 tonight.", FRIDAY, LONDON, [("by 9 tonight", "2026-03-27 21:00")]),
    ("I'll call you by 21:30 tonight.", FRIDAY, LONDON, [("by 21:30 tonight", "2026-03-27 21:30")]),
    ("I'll call you tonight.", FRIDAY, LONDON, [("tonight", "2026-03-27 21:00")]),
    ("I'll call you by 11 this morning.", FRIDAY, LONDON, [("by 11 this morning", "2026-03-27 11:00")]),
    ("I'll call you by 4 this afternoon.", FRIDAY, LONDON, [("by 4 this afternoon", "2026-03-27 16:00")]),
    # two clauses, two promises
    (
        "I'll reply by 3pm, and by Friday I'll have the fix.",
        THURSDAY,
        LONDON,
        [("by 3pm", "2026-03-26 15:00"), ("by Friday", "2026-03-27 17:00")],
    ),
    (
        "I'll reply by 3pm; by Friday I'll have the fix.",
        THURSDAY,
        LONDON,
        [("by 3pm", "2026-03-26 15:00"), ("by Friday", "2026-03-27 17:00")],
    ),
    ("I'll have it by Monday, 30 March.", THURSDAY, LONDON, [("by Monday, 30 March", "2026-03-30 17:00")]),
    # the UK's dot
    ("I'll reply by 5.30pm.", FRIDAY, LONDON, [("by 5.30pm", "2026-03-27 17:30")]),
    ("I'll reply by 5.30 p.m. today.", FRIDAY, LONDON, [("by 5.30 p.m. today", "2026-03-27 17:30")]),
]


@pytest.mark.parametrize(
    ("reply", "now", "zone", "promised"),
    AT_THE_END_OF_MARCH,
    ids=[f"{r[0]} {r[1]:%a %H:%M}" for r in AT_THE_END_OF_MARCH],
)
def test_the_reviewers_phrasings_mean_what_they_say(reply, now, zone, promised):
    assert found(reply, zone, now) == promised


# Replies that mention a time without committing to it.
NOT_PROMISES = [
    "I tried to call you at 3pm but there was no answer.",
    "The fault has been there since Monday.",
    "You wrote to us two hours ago.",
    "We shipped the replacement last Friday.",
    "On 3 March you wrote that the reader was fine.",
    "We open at 9am.",
    "Our hours are 9am to 5pm, Monday to Friday.",
    "We are open from 8am to 6pm.",
    "The reader ran for 2 hours before it froze.",
    "It has been down for three days.",
    "I spoke to the warehouse yesterday.",
    "Your order was placed on 1 December.",
    "Can you call us tomorrow at 10am?",
    "The update went out this morning.",  # 12:00 has not come, but nothing commits to it
    "Every Monday we run maintenance.",
    "> On Mon 7 Dec at 09:12 you wrote:",
    "We received your payment at 08:45.",
    "I was off sick last week.",
    "Since 3pm yesterday the terminal has been offline.",
    "The engineer visited on Tuesday.",
    "Your card was charged twice in November.",
    "We usually reply within a day.",
    "We can't promise it by Friday.",
    "If it is not fixed by Friday, the warranty still covers it.",
    "Please send us the invoice by Friday.",
    "Let us know by Monday which colour you want.",
    "It was due by Friday.",
    "We may be able to help.",
    "I'll check what happened since Monday.",
    "I'll call you. We are closed on Sunday.",
    "We'll ship the new model in March.",
    "Thanks for your patience.",
]


def test_there_are_enough_phrasings():
    assert len(PROMISES) >= 40 and len(NOT_PROMISES) >= 20


@pytest.mark.parametrize(("reply", "phrase", "due"), PROMISES, ids=[phrase for _, phrase, _ in PROMISES])
def test_a_promise_in_words_is_found_with_its_words_and_its_time(reply, phrase, due):
    assert found(reply) == [(phrase, due)]


@pytest.mark.parametrize("reply", NOT_PROMISES)
def test_a_mention_of_a_time_is_not_taken_for_a_promise(reply):
    assert found(reply) == []


def test_each_promise_of_a_reply_is_found_in_order_with_its_sentence():
    reply = "Thanks Dave. We'll call you at 10am and send the part by Friday! The office is shut on Sunday."
    commitments = find_commitments(reply, zone=NEW_YORK, now=NOW)
    assert [(c.phrase, c.sentence) for c in commitments] == [
        ("at 10am", "We'll call you at 10am and send the part by Friday!"),
        ("by Friday", "We'll call you at 10am and send the part by Friday!"),
    ]
    assert all(reply[c.start : c.end] == c.phrase for c in commitments)


def test_the_sentence_is_the_promises_words_unless_it_is_very_long():
    long = "I'll look at " + "the logs and " * 100 + "get back to you by Friday."
    [commitment] = find_commitments(long, zone=NEW_YORK, now=NOW)
    assert commitment.words == "by Friday"
    [short] = find_commitments("I'll get back to you by Friday.", zone=NEW_YORK, now=NOW)
    assert short.words == "I'll get back to you by Friday."


def test_the_due_time_is_aware_and_in_utc():
    [commitment] = find_commitments("I'll call by 3pm tomorrow.", zone=NEW_YORK, now=NOW)
    assert commitment.due_at == datetime(2026, 12, 8, 20, 0, tzinfo=UTC)
    assert commitment.due_at.utcoffset().total_seconds() == 0


# --- The customer's zone ------------------------------------------------------------------------------------

# At 14:00 UTC on Monday it is 14:00 in London, 06:00 in Los Angeles, 23:00 in Tokyo and already 01:00 on
# Tuesday in Sydney: "tomorrow" and "end of day" are theirs.
ZONES = [
    ("Europe/London", "by 3pm tomorrow", "2026-12-08 15:00", datetime(2026, 12, 8, 15, 0, tzinfo=UTC)),
    ("America/Los_Angeles", "by 3pm tomorrow", "2026-12-08 15:00", datetime(2026, 12, 8, 23, 0, tzinfo=UTC)),
    ("Asia/Tokyo", "by 3pm tomorrow", "2026-12-08 15:00", datetime(2026, 12, 8, 6, 0, tzinfo=UTC)),
    ("Australia/Sydney", "by 3pm tomorrow", "2026-12-09 15:00", datetime(2026, 12, 9, 4, 0, tzinfo=UTC)),
    ("Europe/London", "by end of day", "2026-12-07 17:00", datetime(2026, 12, 7, 17, 0, tzinfo=UTC)),
    ("America/Los_Angeles", "by end of day", "2026-12-07 17:00", datetime(2026, 12, 8, 1, 0, tzinfo=UTC)),
    ("Asia/Tokyo", "by end of day", "2026-12-08 17:00", datetime(2026, 12, 8, 8, 0, tzinfo=UTC)),  # 23:00 now
    ("Australia/Sydney", "by end of day", "2026-12-08 17:00", datetime(2026, 12, 8, 6, 0, tzinfo=UTC)),
    ("Asia/Tokyo", "in 30 minutes", "2026-12-07 23:30", datetime(2026, 12, 7, 14, 30, tzinfo=UTC)),
    ("Asia/Kathmandu", "by Friday", "2026-12-11 17:00", datetime(2026, 12, 11, 11, 15, tzinfo=UTC)),
]


@pytest.mark.parametrize(("zone", "phrase", "local", "instant"), ZONES, ids=[f"{z[0]} {z[1]}" for z in ZONES])
def test_times_are_read_in_the_customers_zone(zone, phrase, local, instant):
    [commitment] = find_commitments(f"I'll get back to you {phrase}.", zone=ZoneInfo(zone), now=NOW)
    assert f"{commitment.due_at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}" == local
    assert commitment.due_at == instant


# --- Clock changes ------------------------------------------------------------------------------------------
# New York's clocks go forward at 02:00 on Sunday 8 March 2026 and back at 02:00 on Sunday 1 November 2026;
# London's go forward at 01:00 on Sunday 29 March 2026.

DST = [
    # (zone, now, the reply's words, the instant meant)
    ("America/New_York", datetime(2026, 3, 7, 14, 0, tzinfo=UTC), "by Monday 9am", datetime(2026, 3, 9, 13, 0)),
    # 24 hours of real time, though the wall clock says 10:00 the next day
    ("America/New_York", datetime(2026, 3, 7, 14, 0, tzinfo=UTC), "within 24 hours", datetime(2026, 3, 8, 14, 0)),
    # at 00:30 on the night of the change, two hours on is 03:30 by the new clock
    ("America/New_York", datetime(2026, 3, 8, 5, 30, tzinfo=UTC), "within two hours", datetime(2026, 3, 8, 7, 30)),
    # 02:30 does not exist that night: it moves on by the gap, to 03:30
    ("America/New_York", datetime(2026, 3, 8, 5, 30, tzinfo=UTC), "by 2:30am", datetime(2026, 3, 8, 7, 30)),
    # 01:30 happens twice on 1 November: the first, the earlier, is meant
    ("America/New_York", datetime(2026, 11, 1, 4, 0, tzinfo=UTC), "by 1:30am", datetime(2026, 11, 1, 5, 30)),
    ("America/New_York", datetime(2026, 11, 1, 4, 30, tzinfo=UTC), "within 2 hours", datetime(2026, 11, 1, 6, 30)),
    ("Europe/London", datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "by Monday 9am", datetime(2026, 3, 30, 8, 0)),
    ("Europe/London", datetime(2026, 3, 28, 12, 0, tzinfo=UTC), "by tomorrow", datetime(2026, 3, 29, 16, 0)),
]


@pytest.mark.parametrize(("zone", "now", "phrase", "instant"), DST, ids=[f"{d[0]} {d[2]}" for d in DST])
def test_times_around_a_clock_change_mean_the_right_instant(zone, now, phrase, instant):
    [commitment] = find_commitments(f"I'll call you {phrase}.", zone=ZoneInfo(zone), now=now)
    assert commitment.due_at == instant.replace(tzinfo=UTC)


# --- Odd input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    ["", "   ", "by", "I'll reply by 9999-12-31 23:59.", "I'll reply in 99999999999 days.", "by 25:99", "by \x00"],
)
def test_odd_replies_promise_nothing_and_never_fail(reply):
    assert found(reply) == []


WORDS = ["by", "in", "within", "I'll", "tomorrow", "3pm", "9999", "99999999999", "hours", "Friday", "EOD", "p.m.",
         ".", "?", "\n", ">", "since", "24:00", "2:30am", "March", "-5", "weeks", "ago", "CET", "9999-12-31",
         "\u2019"]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=20).map(" ".join),
    st.sampled_from(["America/New_York", "Australia/Lord_Howe", "Pacific/Kiritimati", "Asia/Kathmandu"]),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
)
def test_any_text_gives_aware_future_times_and_phrases_from_the_text(text, zone, now):
    now = now.replace(tzinfo=UTC)
    for commitment in find_commitments(text, zone=ZoneInfo(zone), now=now):
        assert commitment.due_at > now and commitment.due_at.utcoffset().total_seconds() == 0
        assert text[commitment.start : commitment.end] == commitment.phrase
