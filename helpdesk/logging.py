"""Logs never carry secrets. Django logs the path of every 4xx answer ("Not Found: /status/<token>/"), and a
status link's token opens a customer's request; an API token could turn up in a message or a traceback too.
Every handler the settings configure formats through ``RedactingFormatter``, which masks both in the whole
line, traceback included, before it is written."""

from __future__ import annotations

import logging
import re

# A status or confirmation link's token (the path segment after /status/ or /received/), an API token.
SECRET = re.compile(r"(?P<link>/(?:status|received)/)[^/\s?#\"']+|(?P<api>\bpd_)[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    return SECRET.sub(lambda found: f"{found.group('link') or found.group('api')}[redacted]", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
