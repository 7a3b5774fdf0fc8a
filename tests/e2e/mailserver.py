"""A mail server of the test's own: SMTP on a free port, in threads of the test process, that takes its time
over each message (as a server that scans what it receives does) and records the Message-ID of each.

A message is recorded the moment its data is complete, before the slow answer: from then on it has left, as
far as the recipient is concerned, whether or not the sender lives to read the "250". That is the worst case
for a sender killed mid-send, which is what the tests need.

Python's ``smtpd`` is gone after 3.11 and aiosmtpd would be one more dependency; the part of SMTP that
Django's backend speaks (EHLO or HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) fits on a page.
"""

from __future__ import annotations

import contextlib
import re
import socketserver
import threading
import time
from collections import Counter
from types import TracebackType

MESSAGE_ID = re.compile(rb"^message-id:\s*(.+?)\s*$", flags=re.IGNORECASE | re.MULTILINE)


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the sender went away (killed, or timed out): so be it
            self.reply("220 slow.example.com ESMTP")
            while line := self.rfile.readline():
                verb = line[:4].upper()
                if verb == b"QUIT":
                    self.reply("221 Bye")
                    return
                if verb == b"DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    self.server.owner.received(self.read_message())
                    time.sleep(self.server.owner.delay)
                    self.reply("250 OK: queued")
                elif verb in (b"EHLO", b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                    self.reply("250 OK")
                else:
                    self.reply("502 Command not implemented")

    def read_message(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line)
        return b"".join(lines)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: SlowMailServer


class SlowMailServer:
    """``with SlowMailServer(delay=2) as mail:`` listens on ``mail.port``; ``mail.message_ids()`` is what it got."""

    def __init__(self, *, delay: float) -> None:
        self.delay = delay
        self._lock = threading.Lock()
        self._message_ids: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _Session)  # a free port, chosen by the system
        self._server.owner = self
        self.port: int = self._server.server_address[1]

    def received(self, message: bytes) -> None:
        found = MESSAGE_ID.search(message.split(b"\r\n\r\n", 1)[0])
        with self._lock:
            self._message_ids.append(found.group(1).decode() if found else "(none)")

    def message_ids(self) -> list[str]:
        """Every Message-ID received so far, in order, repeats included."""
        with self._lock:
            return list(self._message_ids)

    def repeated(self) -> dict[str, int]:
        """The Message-IDs received more than once, with how often."""
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}

    def __enter__(self) -> SlowMailServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
