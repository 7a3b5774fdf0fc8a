"""No secret, token or password appears in the logs: a real server with the production settings is asked
what would log them (a wrong status link, a wrong API token, a failed and a good sign-in, an API call with a
real token), and its whole log is searched for each secret."""

from __future__ import annotations

import logging
import sys

import requests

from helpdesk.logging import RedactingFormatter, redact
from tests.factories import PASSWORD
from tests.processes import PROXIED, with_production_password
from tickets.api.access import issue_token


def test_the_servers_log_holds_no_token_link_or_password(production_server, alice, ticket):
    site = production_server.url
    with_production_password(alice)
    _, api_token = issue_token(user=alice, name="logs", days=None)
    guessed_link = "Zm9vYmFyLXNlY3JldC1saW5rLXRva2Vu"
    wrong_password = "hunter2-not-alices"

    assert requests.get(f"{site}/status/{guessed_link}/", headers=PROXIED, timeout=10).status_code == 404
    assert requests.get(f"{site}/received/{guessed_link}x/", headers=PROXIED, timeout=10).status_code == 404
    assert requests.get(f"{site}/status/{ticket.token}/", headers=PROXIED, timeout=10).status_code == 200
    bad = {**PROXIED, "Authorization": "Bearer pd_wrongwrongwrongwrongwrong"}
    assert requests.get(f"{site}/api/v1/tickets/", headers=bad, timeout=10).status_code == 401
    good = {**PROXIED, "Authorization": f"Bearer {api_token}"}
    assert requests.get(f"{site}/api/v1/tickets/NOPE/", headers=good, timeout=10).status_code == 404
    # Sign in wrongly, then rightly. (The CSRF cookie is Secure: requests keeps it from plain HTTP, so it is
    # sent by hand, as the browser would over the proxy's HTTPS.)
    csrf = requests.get(f"{site}/accounts/login/", headers=PROXIED, timeout=10).cookies["csrftoken"]
    signing_in = {**PROXIED, "Cookie": f"csrftoken={csrf}", "Referer": "https://desk.example.com/accounts/login/"}
    answers = [
        requests.post(
            f"{site}/accounts/login/",
            data={"username": "alice", "password": password, "csrfmiddlewaretoken": csrf},
            headers=signing_in,
            timeout=10,
            allow_redirects=False,
        ).status_code
        for password in (wrong_password, PASSWORD)
    ]
    assert answers == [200, 302]  # refused, then signed in: both went through authentication

    log = production_server.log.read_text()
    assert "Not Found: /status/[redacted]/" in log  # the 404s were logged, without their tokens
    assert "Not Found: /received/[redacted]/" in log
    assert "AXES: User login failed" in log  # so was the failed sign-in, without the password
    for secret in (guessed_link, ticket.token, api_token, "pd_wrongwrongwrong", wrong_password, PASSWORD):
        assert secret not in log, f"{secret[:12]}… is in the log:\n{log}"


def test_the_filter_masks_links_and_tokens_wherever_they_are_in_a_message():
    assert redact("Not Found: /status/abc123_-XYZ/") == "Not Found: /status/[redacted]/"
    assert redact('"GET /received/abc/?x=1 HTTP/1.1" 200') == '"GET /received/[redacted]/?x=1 HTTP/1.1" 200'
    assert redact("token pd_AbC-12_x used") == "token pd_[redacted] used"
    assert redact("/desk/tickets/PD-1042/ and /status/ alone") == "/desk/tickets/PD-1042/ and /status/ alone"
    try:
        raise ValueError("token pd_AbCdEf123 in /status/s3cr3t/")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "Not Found: %s", ("/status/s3cr3t/",), sys.exc_info()
        )
    line = RedactingFormatter("%(message)s").format(record)
    assert "s3cr3t" not in line and "AbCdEf123" not in line  # the traceback is masked too
    assert line.startswith("Not Found: /status/[redacted]/") and "Traceback" in line
    assert redact("dpd_notatoken") == "dpd_notatoken"  # pd_ only as a word of its own
