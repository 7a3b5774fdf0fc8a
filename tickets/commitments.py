"""What a reply promises: the times a rep commits to in words ("I'll get back to you by 3pm tomorrow"), read in
the customer's time zone, and what the overpromise guard says of each.

The dates are read by dateparser (``search_dates``), never by patterns of ours. This module decides only, from
the words around each date it finds, whether the writer commits to it, and turns the reading into an instant.
The words are a language's (``Cues``, in ``tickets.commitment_cues``); English is the only one so far: another
language is a ``Cues`` in ``CUES`` under its dateparser code.

``find_commitments``:

1. A few idioms dateparser does not read are put in words it does (``Cues.idioms``): "end of day", "EOD" and
   "close of business" are 17:00; "end of the week" Friday 17:00; "morning" 12:00 (a promise for the morning is
   kept by noon), "afternoon" 17:00, "evening" and "tonight" 21:00; "first thing" 09:00; but an hour given wins
   ("by 9 tonight" is 21:00, "by 10 this morning" 10:00); "5.30pm", the UK's form, is 5:30pm.
2. dateparser finds the dates, read from the customer's wall-clock now, preferring the future.
   a. a match is cut where a clause ends inside it: at ";", "and", "but", and a comma before those or a deadline
      word ("by 3pm, and by Friday" is two promises); a comma alone is the date's own ("Monday, 14 December");
   b. a clock time alone right before or after a day without one is that day's ("by 10am next Tuesday").
3. A date is a commitment when, in its sentence:
   a. it is not in a quoted line ("> On Mon 7 Dec you wrote:") nor in a question;
   b. it is not a word that is a date only to dateparser ("we" for Wednesday, "may");
   c. the word right before it is not one that places it in the past or makes it a span ("since Monday",
      "for 2 hours", "last Friday", "every Monday");
   d. its clause holds no doubt: a habit, a negation, a condition, a request, the past ("we usually reply within
      a day", "we can't promise it by Friday", "if it is not fixed by Friday", "please reply by Friday", "it was
      due by Friday");
   e. a deadline word stands right before it ("by", "within", "before", "no later than"; "in" before a time
      counted from now, "in 30 minutes", not "in March"), or the sentence commits before it ("I'll",
      "we will", "you'll", "expect", "should": "I'll call you tomorrow morning").
   So "I tried at 3pm", "we open at 9am" and "on 3 March you wrote" are not commitments: nothing commits.
4. Its instant:
   - a time counted from now ("in 30 minutes", "within two hours") is that long after now in real time, across
     a clock change too;
   - a day without a time of day ("by Friday", "tomorrow", "in 3 days", "next week") means the end of that
     working day, ``END_OF_DAY`` (17:00) in the customer's zone;
   - a weekday alone that is today's ("by Friday" on a Friday) is today while its time is still ahead, else next
     week's (dateparser's); "next Friday" is always next week's;
   - a clock time is read in the customer's zone (or the zone it names: "3pm CET"); one the clocks skip moves
     on by the gap (2:30 becomes 3:30), one they repeat is the first of the two (the earlier: a promise kept
     late is broken);
   - a month or a year alone ("in March") is too vague to promise; a time not after now is not a promise.
The reading is an offer to the rep, never an action: the desk shows it and the rep decides.

``check_reply`` adds the overpromise guard's verdict on each time (the desk's notice, the API's reply check);
``the_commitment`` finds again the one a rep chose to record with the reply.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dateparser.date import DateDataParser
from dateparser.search import search_dates
from django.contrib.auth.models import User

from tickets.commitment_cues import CUES, Cues
from tickets.models import Ticket
from tickets.promise_rules import Verdict, judge

END_OF_DAY = time(17, 0)  # a day promised without a time of day: the end of its working day
MAX_WORDS = 1000  # a promise's words (what the customer was told) as the promise forms take them
RELATIVE_PROBE = timedelta(seconds=61)  # how far now is moved to see whether a reading moves with it
# dateparser reads wall-clock times as if in UTC, a zone without clock changes: the customer's zone is applied
# afterwards (rule 4), as dateparser's own handling raises on a time the clocks repeat.
WALL = "UTC"


WORD = re.compile(r"[\w']+")
SENTENCE_END = re.compile(r"[.!?;](?=\s|$)|\n")
CLAUSE_END = re.compile(r"[.!?;,\u2014](?=\s|$)|\n| - ")


@dataclass(frozen=True)
class Commitment:
    """A time the writer commits to: the words as written, and the instant they mean (aware, UTC)."""

    phrase: str  # "by 3pm tomorrow"
    due_at: datetime
    sentence: str  # the sentence that holds it, as written: the promise's words
    start: int  # where the phrase is in the text
    end: int

    @property
    def words(self) -> str:
        """What the customer was told, for the promise: the sentence, or the phrase in a very long one."""
        return self.sentence if len(self.sentence) <= MAX_WORDS else self.phrase


def find_commitments(text: str, *, zone: ZoneInfo, now: datetime, language: str = "en") -> list[Commitment]:
    """The times ``text`` commits to, in order, read in ``zone`` at ``now`` (the module says how). ``language`` is
    a dateparser language code with its ``Cues`` in ``CUES``."""
    cues = CUES[language]
    rewritten = Rewritten.of(text, cues.idioms)
    base = now.astimezone(zone).replace(tzinfo=None)
    options = {"RELATIVE_BASE": base, "PREFER_DATES_FROM": "future", "TIMEZONE": WALL, "RETURN_AS_TIMEZONE_AWARE": True}
    found = search_dates(rewritten.text, languages=[language], settings=options) or []
    reader = DateDataParser(languages=[language], settings=options)
    parsers = {
        shift: DateDataParser(languages=[language], settings={**options, "RELATIVE_BASE": base + shift})
        for shift in (RELATIVE_PROBE, -timedelta(days=1))
    }
    commitments = []
    try:  # a date at the calendar's edge ("by 9999-12-31 23:59"): no promise
        readings = adjoined(rewritten.text, readings_of(rewritten.text, [m for m, _ in found], reader, cues), cues)
    except OverflowError:
        return []
    for reading in readings:
        if not committed(rewritten.text, reading.start, reading.end, cues, from_now=True):
            continue  # the words alone rule it out: no need to read it again
        try:
            due_at = read(reading, parsers, rewritten.text, cues, zone=zone, now=now, base=base)
        except OverflowError:
            continue
        if due_at is not None and due_at > now:
            commitments.append(written(text, rewritten, reading.start, reading.end, due_at, cues))
    return commitments


class Reading(NamedTuple):  # dateparser's of text[start:end]; ``day``: the words that give its day (rule 2b)
    start: int
    end: int
    date: datetime
    parts: tuple[str, ...]
    day: str


def readings_of(text: str, matches: Sequence[str], reader: DateDataParser, cues: Cues) -> list[Reading]:
    """Rule 2a: dateparser's matches in ``text``, each cut where a clause ends inside it, each piece read."""
    joins, after_comma = "|".join(cues.clause_joins), "|".join((*cues.clause_joins, *cues.deadline))
    boundary = re.compile(rf";|,?\s+(?:{joins})\s+|,(?=\s+(?:{after_comma})\b)", re.I)
    readings, cursor = [], 0
    for match in matches:
        start = text.find(match, cursor)
        if start < 0:
            continue
        cursor = end = start + len(match)
        cuts = [(cut.start(), cut.end()) for cut in boundary.finditer(text, start, end)]
        for first, last in zip([start, *(cut[1] for cut in cuts)], [*(cut[0] for cut in cuts), end], strict=True):
            piece = text[first:last]
            first, last = first + len(piece) - len(piece.lstrip()), last - len(piece) + len(piece.rstrip())
            data = reader.get_date_data(text[first:last]) if WORD.search(text, first, last) else None
            if data is not None and data.date_obj is not None:
                readings.append(Reading(first, last, data.date_obj, tuple(data.parts), text[first:last]))
    return readings


def adjoined(text: str, readings: list[Reading], cues: Cues) -> list[Reading]:
    """Rule 2b: a time of day alone right before or after a day without one, as one reading."""
    joined: list[Reading] = []
    for reading in readings:
        if joined and joined[-1].end < reading.start and not text[joined[-1].end : reading.start].strip():
            day, clock = sorted((joined[-1], reading), key=lambda one: "time" in one.parts)
            if "time" not in day.parts and "time" in clock.parts and re.fullmatch(cues.clock, clock.day, re.I):
                at = day.date.replace(hour=clock.date.hour, minute=clock.date.minute, second=clock.date.second)
                joined[-1] = Reading(joined[-1].start, reading.end, at, (*day.parts, "time"), day.day)
                continue
        joined.append(reading)
    return joined


def read(
    reading: Reading,
    parsers: dict[timedelta, DateDataParser],
    text: str,
    cues: Cues,
    *,
    zone: ZoneInfo,
    now: datetime,
    base: datetime,
) -> datetime | None:
    """The instant a reading commits to, or None. Its day's words are read again a little later, to tell a time
    counted from now ("in 30 minutes") from a clock time (rules 3e and 4), and from yesterday, to tell a weekday
    alone ("by Friday"), which dateparser puts a week ahead when it is today's, from a date (rule 4)."""
    shifted = parsers[RELATIVE_PROBE].get_date_data(reading.day).date_obj
    from_now = shifted is not None and shifted - reading.date == RELATIVE_PROBE
    if not from_now and not committed(text, reading.start, reading.end, cues, from_now=False):
        return None
    sooner = reading.date - timedelta(days=7)
    if not from_now and sooner.date() == base.date() and not set(words(reading.day)) & set(cues.next_week):
        yesterday = parsers[-timedelta(days=1)].get_date_data(reading.day).date_obj
        today = instant(sooner, reading.parts, zone=zone, now=now, base=base, from_now=False)
        if yesterday is not None and yesterday.date() == base.date() and today is not None and today > now:
            return today  # a weekday alone that is today's, its time still ahead
    return instant(reading.date, reading.parts, zone=zone, now=now, base=base, from_now=from_now)


def committed(text: str, start: int, end: int, cues: Cues, *, from_now: bool) -> bool:
    """Rule 3: whether the writer commits to the date found at ``text[start:end]``."""
    line = text[text.rfind("\n", 0, start) + 1 : start]
    sentence_start = last_end(SENTENCE_END, text, start)
    after = SENTENCE_END.search(text, end)
    if line.lstrip().startswith(">") or (after is not None and after.group() == "?"):
        return False  # 3a: quoted, or asked
    match_words = words(text[start:end])
    if len(match_words) == 1 and match_words[0] in cues.false_friends:
        return False  # 3b
    leading = []
    for word in match_words:
        if word not in (*cues.lead, *cues.joins, *cues.articles):
            break
        leading.append(word)
    before = without_articles([*words(text[sentence_start:start]), *leading], cues)
    clause = without_articles([*words(text[last_end(CLAUSE_END, text, start) : start]), *leading], cues)
    if (before and before[-1] in cues.not_promised) or "ago" in match_words:
        return False  # 3c
    for deadline in cues.deadline:  # the deadline's own words are no doubt ("no later than")
        if ends_with(clause, deadline):
            clause = clause[: -len(deadline.split())]
            break
    if any(has(clause, doubt) for doubt in cues.doubt):
        return False  # 3d
    if any(ends_with(before, deadline) for deadline in cues.deadline):
        return True  # 3e: a deadline
    if from_now and any(ends_with(before, word) for word in cues.from_now):
        return True
    return any(has(before, phrase) for phrase in cues.commit)


def instant(
    reading: datetime, parts: Sequence[str], *, zone: ZoneInfo, now: datetime, base: datetime, from_now: bool
) -> datetime | None:
    """Rule 4: the instant a reading means, in UTC; None for a month or a year alone. ``parts`` are what the
    words said (dateparser's: year, month, day, time)."""
    if "day" not in parts:
        return None
    wall = reading.replace(tzinfo=None)
    if "time" not in parts:
        wall = datetime.combine(wall.date(), END_OF_DAY)
    elif from_now:
        return (now + (wall - base)).astimezone(UTC)
    elif getattr(reading.tzinfo, "zone", None) != WALL:  # the words named a zone ("3pm CET"): its instant
        return reading.astimezone(UTC)
    # fold 0: the first of a time the clocks repeat; a time they skip moves on by the gap
    return wall.replace(tzinfo=zone).astimezone(UTC)


def written(text: str, rewritten: Rewritten, start: int, end: int, due_at: datetime, cues: Cues) -> Commitment:
    """The commitment as the text has it, in its sentence: the phrase from its deadline word ("within two hours",
    where dateparser found "two hours"), without other small words dateparser took in at its ends."""
    first, last = rewritten.original(start, edge="start"), rewritten.original(end, edge="end")
    sentence_start = last_end(SENTENCE_END, text, first)
    spans = [found.span() for found in WORD.finditer(text, sentence_start, last)]
    inside = [span for span in spans if span[0] >= first]
    cut = len(inside) > 1 and text[slice(*inside[-1])].lower() in cues.joins
    while len(inside) > 1 and text[slice(*inside[-1])].lower() in cues.joins:
        inside.pop()
    while len(inside) > 1 and text[slice(*inside[0])].lower() in cues.joins:
        inside.pop(0)
    if not inside:  # a match of punctuation alone: no phrase to show
        inside = spans[-1:]
    last = inside[-1][1] if cut else max(inside[-1][1], last)  # "5 p.m." keeps its last full stop
    before = spans[: spans.index(inside[0])]
    said = words(text[sentence_start : inside[0][0]])
    articles = len(said) - len(without_articles(said, cues))
    for deadline in (*cues.deadline, *cues.from_now):
        if ends_with(said[: len(said) - articles], deadline):
            inside = [*before[-len(deadline.split()) - articles :], *inside]
            break
    first = inside[0][0]
    after = SENTENCE_END.search(text, last)
    sentence_end = after.end() if after and after.group() != "\n" else (after.start() if after else len(text))
    sentence = " ".join(text[sentence_start:sentence_end].split())
    return Commitment(phrase=text[first:last], due_at=due_at, sentence=sentence, start=first, end=last)


# --- Words ---------------------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    return [word.lower().replace("\u2019", "'") for word in WORD.findall(text.replace("\u2019", "'"))]


def without_articles(tokens: list[str], cues: Cues) -> list[str]:
    while tokens and tokens[-1] in cues.articles:
        tokens = tokens[:-1]
    return tokens


def ends_with(tokens: Sequence[str], phrase: str) -> bool:
    wanted = phrase.split()
    return len(tokens) >= len(wanted) and list(tokens[-len(wanted) :]) == wanted


def has(tokens: Sequence[str], phrase: str) -> bool:
    """Whether ``phrase`` (words, or a word ending such as "n't") is among ``tokens``."""
    if phrase.startswith("n'"):
        return any(token.endswith(phrase) for token in tokens)
    wanted = phrase.split()
    return any(list(tokens[i : i + len(wanted)]) == wanted for i in range(len(tokens) - len(wanted) + 1))


def last_end(boundary: re.Pattern[str], text: str, before: int) -> int:
    """Where the sentence or clause holding ``before`` starts: after the last boundary before it."""
    start = 0
    for found in boundary.finditer(text, 0, before):
        start = found.end()
    return start


@dataclass(frozen=True)
class Rewritten:
    """The text with the idioms put in words dateparser reads, and the way back to the text's own positions."""

    text: str
    edits: tuple[tuple[int, int, int, int], ...]  # (start, end) in the rewritten text, (start, end) in the original

    @classmethod
    def of(cls, text: str, idioms: Sequence[tuple[str, str]]) -> Rewritten:
        pattern = re.compile(
            "|".join(rf"(?P<i{n}>(?<!\w)(?:{words})(?!\w))" for n, (words, _) in enumerate(idioms)), re.I
        )
        pieces, edits, at, length = [], [], 0, 0
        for found in pattern.finditer(text):
            assert found.lastgroup is not None
            index = int(found.lastgroup[1:])
            words, replacement = idioms[index]
            new = re.sub(words, replacement, found.group(), flags=re.I)
            pieces.append(text[at : found.start()])
            length += found.start() - at
            edits.append((length, length + len(new), found.start(), found.end()))
            pieces.append(new)
            length += len(new)
            at = found.end()
        pieces.append(text[at:])
        return cls("".join(pieces), tuple(edits))

    def original(self, position: int, *, edge: str) -> int:
        """The original text's position for a position in the rewritten text (an edit's start or end within it)."""
        shift = 0
        for new_start, new_end, old_start, old_end in self.edits:
            if position < new_start or (position == new_start and edge == "end"):
                break
            if position < new_end or (position == new_end and edge == "end"):
                return old_start if edge == "start" else old_end
            shift = old_end - new_end
        return position + shift


# --- A reply's commitments, judged ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checked:
    """A commitment of a reply with what the overpromise guard says of its time: what the desk's notice and the
    API's reply check show before the reply is sent."""

    commitment: Commitment
    zone: ZoneInfo  # the customer's
    verdict: Verdict

    @property
    def due_local(self) -> datetime:
        return self.commitment.due_at.astimezone(self.zone)


def check_reply(ticket: Ticket, *, body: str, by: User, now: datetime) -> list[Checked]:
    """The times ``body`` would promise the ticket's customer, each with the guard's verdict for ``by``."""
    zone = ticket.customer.zone
    return [
        Checked(commitment, zone, judge(ticket, due_at=commitment.due_at, by=by, now=now))
        for commitment in find_commitments(body, zone=zone, now=now)
    ]


def the_commitment(text: str, phrase: str, *, zone: ZoneInfo, now: datetime) -> Commitment | None:
    """The commitment of ``text`` whose words are ``phrase`` (spacing and case aside), read at ``now``."""
    wanted = " ".join(phrase.split()).casefold()
    return next(
        (
            found
            for found in find_commitments(text, zone=zone, now=now)
            if " ".join(found.phrase.split()).casefold() == wanted
        ),
        None,
    )
