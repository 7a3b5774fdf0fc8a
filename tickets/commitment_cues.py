"""The words that tell a commitment from a mention of a date, one ``Cues`` per language (``tickets.commitments``
reads them; its docstring's rules 1 to 3 say what each kind of word does)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cues:
    """One language's words that tell a commitment from a mention of a date (rules 1 and 3 of the module)."""

    idioms: tuple[tuple[str, str], ...]  # (words, as dateparser reads them): rule 1
    deadline: tuple[str, ...]  # right before the date: it is a deadline (3e)
    from_now: tuple[str, ...]  # a deadline only before a time counted from now ("in")
    commit: tuple[str, ...]  # earlier in the sentence: the writer commits (3e)
    not_promised: tuple[str, ...]  # right before the date: a past, a span, a habit (3c)
    doubt: tuple[str, ...]  # earlier in the clause: a habit, a negation, a condition, a request (3d)
    false_friends: tuple[str, ...]  # one word read as a date only by dateparser (3b)
    lead: tuple[str, ...]  # prepositions dateparser may take into the start of a match ("by Friday")
    joins: tuple[str, ...]  # words dateparser may take in at either end that are no part of the phrase
    articles: tuple[str, ...]  # between a cue and its date: "within a day", "by the end of the week"
    clause_joins: tuple[str, ...]  # a match is cut where they join two clauses: "by 3pm, and by Friday" (2a)
    clock: str  # a match that is only a time of day ("by 10am"), which a day next to it takes in (2b)
    next_week: tuple[str, ...]  # a weekday after them is never today's ("next Friday", said on a Friday: 4)


# fmt: off
ENGLISH = Cues(
    idioms=(
        # an hour before a part of the day is that hour of it ("by 9 tonight" is 21:00: rule 1)
        (r"((?:1[01]|[1-9])(?::[0-5]\d)?) (?:tonight|this evening|this afternoon)", r"\1pm today"),
        (r"((?:1[01]|[1-9])(?::[0-5]\d)?) this morning", r"\1am today"),
        (r"(\d{1,2}(?::[0-5]\d)? ?[ap]m|[012]?\d:[0-5]\d) (?:tonight|this (?:evening|afternoon|morning))", r"\1 today"),
        (r"(\d{1,2})\.([0-5]\d) ?([ap])(?:m|\.m\.)", r"\1:\2\3m"),  # "5.30pm", the UK's way, is 17:30
        (r"(?:the )?(?:end|close) of (?:the )?(?:business |working )?(?:day|business|play)|eod|cob|eop", "17:00"),
        (r"(?:the )?end of (?:the |this )?(?:working )?week|eow", "Friday 17:00"),
        (r"this morning", "today 12:00"),
        (r"this afternoon", "today 17:00"),
        (r"this evening|tonight", "today 21:00"),
        (r"morning", "12:00"),
        (r"afternoon", "17:00"),
        (r"evening", "21:00"),
        (r"midday|lunchtime", "12:00"),
        (r"first thing", "09:00"),
        (r"half an hour", "30 minutes"),
        (r"a couple of (hours|days)", r"2 \1"),
        (r"the hour", "1 hour"),
        (r"([ap])\.m\.", r"\1m"),
    ),
    deadline=("by", "within", "before", "no later than", "not later than"),
    from_now=("in",),
    commit=(
        "i'll", "i will", "we'll", "we will", "i shall", "we shall", "you'll", "you will", "expect", "should",
        "going to", "promise", "aim to", "plan to",
    ),
    not_promised=("since", "for", "from", "after", "last", "every", "each", "during", "past", "ago"),
    doubt=(
        "usually", "normally", "typically", "generally", "often", "sometimes", "always",  # a habit
        "not", "never", "cannot", "unable", "n't",  # a negation ("can't", "won't": any word ending in n't)
        "if", "unless", "whether",  # a condition
        "please", "could you", "can you", "would you", "kindly", "let me know", "let us know",  # a request
        "was", "were",  # the past
    ),
    false_friends=("we", "may", "sat", "sun", "mon", "march", "second"),
    lead=("by", "in", "on", "at", "within", "before", "until", "till", "for", "since", "from", "after", "last",
          "every"),
    joins=("and", "or", "but", "so", "then", "the", "to", "a"),
    articles=("a", "an", "the"),
    clause_joins=("and", "but"),
    clock=r"(?:(?:by|at|before|until|till) )?(?:\d{1,2}(?::[0-5]\d)? ?[ap]m|\d{1,2}:[0-5]\d|noon|midnight)",
    next_week=("next",),
)
# fmt: on

CUES: dict[str, Cues] = {"en": ENGLISH}
