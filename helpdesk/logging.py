"""Logs never carry secrets. Django logs the path of every 4xx answer ("Not Found: /status/<token>/"), and a
status link's token opens a customer's request; API tokens could turn up in a message too. This filter,
on every handler the settings configure, masks both before a line is written."""

from __future__ import annotations

import logging
import re

# A status or confirmation link's token (the path segment after /status/ or /received/), an API token.
SECRET = re.compile(r"(?P<link>/(?:status|received)/)[^/\s?#\"']+|(?P<api>pd_)[A-Za-z0-9_-]+")


def redact(text: str) -> str:
    return SECRET.sub(lambda found: f"{found.group('link') or found.group('api')}[redacted]", text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
