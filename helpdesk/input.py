"""Values in a request that ``int()`` cannot read, refused where they arrive.

- ``whole_number``: a number typed in a query string (a page, a page size, an id), or None.
"""

from __future__ import annotations


def whole_number(text: str | None, *, at_most: int = 2**63 - 1) -> int | None:
    """``text`` as a whole number from 0 to ``at_most`` (a bigint's largest by default), or None.

    ASCII digits only: ``str.isdigit`` also takes "²", which ``int()`` refuses with a ValueError (a 500 where a
    400 was meant). Text longer than ``at_most`` is None without ``int()`` reading it, which would also refuse
    more than 4,300 digits (leading zeros count too).
    """
    if not text or not (text.isascii() and text.isdecimal()) or len(text) > len(str(at_most)):
        return None
    number = int(text)
    return number if number <= at_most else None
