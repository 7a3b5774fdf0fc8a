"""Promises in words on the desk: while alice types a reply, the desk reads the times it commits to in Dave's
time zone, shows the guard's verdict, and offers to send the reply and record the promise in one step.

Dave lives in New York; the category's default target (4 h, no history yet) is the guard's estimate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from customers.models import Customer
from customers.services import update_customer
from tests.desk.helpers import action_url, form_html, html, ticket_url, written
from tickets import services
from tickets.commitments import find_commitments
from tickets.models import CustomerEmail, Promise

NEW_YORK = ZoneInfo("America/New_York")
REALISTIC = "I'll have the refund through within 3 days."  # 17:00 in New York, two days away at least
SOONER = "I'll call you back within 2 hours."  # sooner than the 4 h the guard expects


@pytest.fixture(autouse=True)
def dave_in_new_york(dave, alice):
    update_customer(dave, time_zone="America/New_York", by=alice)
    dave.refresh_from_db()


def check_url(ticket) -> str:
    return reverse("desk:reply-check", args=[ticket.reference])


def due(text: str, phrase: str) -> datetime:
    """When ``phrase`` of ``text`` is due if read now (what the desk and the service read too)."""
    return next(c.due_at for c in find_commitments(text, zone=NEW_YORK, now=timezone.now()) if c.phrase == phrase)


def shown(moment: datetime) -> str:
    """As the notice shows a time in New York: "Thu 10 Dec, 17:00"."""
    local = moment.astimezone(NEW_YORK)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


# --- The notice, while typing ------------------------------------------------------------------------------


def test_a_reply_that_promises_shows_when_for_dave_and_the_guards_verdict(client_for, ticket, alice):
    response = client_for(alice).post(check_url(ticket), {"body": f"Hi Dave,\n\n{REALISTIC}\n\nAlice"})
    assert response.status_code == 200
    notice = html(response)
    assert "<html" not in notice
    assert 'data-commitment="realistic"' in notice
    assert 'This reply promises <em class="fw-semibold">within 3 days</em>:' in notice
    assert f"{shown(due(REALISTIC, 'within 3 days'))}</time>\n      for Dave (America/New_York)" in notice
    assert "Realistic." in notice and "Too little history yet: the category&#x27;s target is 4 h." in notice
    assert 'name="promise" value="within 3 days">Send and record as the promise</button>' in notice
    assert 'name="reason"' not in notice  # no reason is needed for a realistic time


def test_a_time_sooner_than_the_estimate_is_flagged_and_the_reason_asked_for(client_for, ticket, alice):
    response = client_for(alice).post(check_url(ticket), {"body": SOONER, "reason": "The fix is deployed"})
    notice = html(response)
    assert 'data-commitment="sooner"' in notice
    assert "Sooner than we usually manage." in notice
    assert 'id="reply_reason" name="reason"' in notice
    assert ">The fix is deployed</textarea>" in notice  # what she typed is kept as the notice refreshes


def test_each_time_a_reply_promises_has_its_own_notice(client_for, ticket, alice):
    body = "I'll call you tomorrow afternoon and the refund will be through within 3 days."
    notice = html(client_for(alice).post(check_url(ticket), {"body": body}))
    assert notice.count("Send and record as the promise") == 2
    assert 'value="tomorrow afternoon"' in notice and 'value="within 3 days"' in notice


def test_with_a_promise_pending_the_notice_asks_why_it_changes(client_for, ticket, alice):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=5), by=alice, words="Within the week.")
    notice = html(client_for(alice).post(check_url(ticket), {"body": REALISTIC}))
    assert 'id="reply_change_reason" name="change_reason"' in notice


@pytest.mark.parametrize(
    "body",
    [
        "Thanks Dave, we have refunded the second charge.",
        "I tried to call you at 3pm but there was no answer.",
        "",
        "   ",
        "I'll call you by 3pm\x00 tomorrow.",  # a NUL: the form refuses it, nothing is read
        "I'll call you by 3pm tomorrow. " + "x" * 10_000,  # longer than a reply may be
    ],
    ids=["no time", "a past time", "empty", "blank", "NUL", "too long"],
)
def test_a_reply_that_promises_nothing_or_cannot_be_sent_shows_no_notice(body, client_for, ticket, alice):
    response = client_for(alice).post(check_url(ticket), {"body": body})
    assert response.status_code == 200
    assert "data-commitment" not in html(response)
    assert "Send and record" not in html(response)


def test_without_dave_s_zone_the_notice_says_the_time_is_the_desks(client_for, ticket, alice, dave):
    Customer.objects.filter(pk=dave.pk).update(time_zone="")
    notice = html(client_for(alice).post(check_url(ticket), {"body": REALISTIC}))
    assert "for Dave (UTC, the desk's zone: theirs is not on record)" in notice


def test_the_notice_also_gives_the_time_in_alices_own_zone_when_it_differs(client_for, ticket, alice):
    client = client_for(alice)
    client.cookies["tz"] = "Europe/London"
    notice = html(client.post(check_url(ticket), {"body": REALISTIC}))
    in_london = due(REALISTIC, "within 3 days").astimezone(ZoneInfo("Europe/London"))
    assert f", {in_london:%a} {in_london.day} {in_london:%b}, {in_london:%H:%M} your time" in notice


def test_the_reply_box_asks_for_the_notice_as_alice_types(client_for, ticket, alice):
    form = form_html(client_for(alice).get(ticket_url(ticket)), ticket, "reply")
    assert f'hx-post="{check_url(ticket)}" hx-trigger="input changed delay:500ms"' in form
    assert 'hx-target="#reply-commitments"' in form and '<div id="reply-commitments" aria-live="polite">' in form


def test_the_notice_is_read_only_by_post(client_for, ticket, alice):
    before = written(ticket)
    assert client_for(alice).get(check_url(ticket), {"body": REALISTIC}).status_code == 405
    assert client_for(alice).post(check_url(ticket), {"body": REALISTIC}).status_code == 200
    assert written(ticket) == before  # reading writes nothing


# --- Send and record as the promise ----------------------------------------------------------------------


def test_send_and_record_sends_the_reply_and_makes_the_promise_in_one_step(client_for, ticket, alice):
    body = f"Hi Dave, sorry for the wait. {REALISTIC} Alice"
    response = client_for(alice).post(action_url(ticket, "reply"), {"body": body, "promise": "within 3 days"})
    assert response.status_code == 302 and response["Location"] == ticket_url(ticket)
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert told == ["Reply sent, and “within 3 days” recorded as the promise."]
    # the reply went out as written
    reply = ticket.interactions.get(kind="reply")
    assert (reply.body, reply.author, reply.is_public) == (body, alice, True)
    # and the promise is the time it names, in Dave's zone, in the words of its sentence
    promise = Promise.objects.get(ticket=ticket)
    assert promise.due_at == due(body, "within 3 days")
    assert promise.due_at.astimezone(NEW_YORK).strftime("%H:%M") == "17:00"
    assert (promise.words, promise.made_by, promise.overrode_estimate) == (REALISTIC, alice, False)
    made = ticket.interactions.get(kind="promise_made")
    assert made.data["promise"] == promise.pk and made.created_at == reply.created_at
    ticket.refresh_from_db()
    assert (ticket.promise_state, ticket.promise_due_at, ticket.status) == ("on_track", promise.due_at, "open")
    # Dave is emailed the reply, which says the promise: one email, not two (after the acknowledgement)
    emails = CustomerEmail.objects.filter(ticket=ticket).exclude(interaction__kind="customer_message")
    assert list(emails.values_list("interaction__kind", flat=True)) == ["reply"]


def test_a_plain_reply_records_no_promise_even_when_it_promises(client_for, ticket, alice):
    response = client_for(alice).post(action_url(ticket, "reply"), {"body": REALISTIC})
    assert response.status_code == 302
    assert ticket.interactions.filter(kind="reply").count() == 1
    assert not Promise.objects.filter(ticket=ticket).exists()


def test_sooner_than_the_estimate_without_a_reason_sends_nothing_and_asks_why(client_for, ticket, alice):
    before = written(ticket)
    response = client_for(alice).post(action_url(ticket, "reply"), {"body": SOONER, "promise": "within 2 hours"})
    assert response.status_code == 400
    form = form_html(response, ticket, "reply")
    assert 'data-commitment="sooner"' in form
    assert "Sooner than the estimate: say why it is realistic this time." in form
    assert 'id="reply_reason" name="reason" rows="2" maxlength="2000" aria-describedby="reply_reason_error"' in form
    assert f">{escape(SOONER)}</textarea>" in form  # her reply is kept
    assert 'class="tab-pane show active" id="pane-reply"' in html(response)
    assert written(ticket) == before  # neither the reply nor the promise


def test_sooner_than_the_estimate_with_a_reason_is_sent_and_remembers_why(client_for, ticket, alice):
    reason = "The engineer is already on site."
    data = {"body": SOONER, "promise": "within 2 hours", "reason": reason}
    assert client_for(alice).post(action_url(ticket, "reply"), data).status_code == 302
    promise = Promise.objects.get(ticket=ticket)
    assert (promise.overrode_estimate, promise.override_reason, promise.estimate) == (True, reason, timedelta(hours=4))
    assert timedelta(hours=1, minutes=59) < promise.due_at - timezone.now() <= timedelta(hours=2)
    assert ticket.interactions.filter(kind="reply").exists()


def test_changing_a_pending_promise_needs_the_reason_dave_reads(client_for, ticket, alice):
    first = services.make_promise(ticket, due_at=timezone.now() + timedelta(days=5), by=alice, words="This week.")
    client = client_for(alice)
    before = written(ticket)
    # without saying why, nothing is sent
    response = client.post(action_url(ticket, "reply"), {"body": REALISTIC, "promise": "within 3 days"})
    assert response.status_code == 400
    assert "Say why the promise changes: the customer will read it." in form_html(response, ticket, "reply")
    assert written(ticket) == before
    # saying why, the reply goes out and the new promise supersedes the old
    data = {"body": REALISTIC, "promise": "within 3 days", "change_reason": "The bank was quicker."}
    assert client.post(action_url(ticket, "reply"), data).status_code == 302
    first.refresh_from_db()
    assert first.outcome == "superseded"
    assert ticket.interactions.get(kind="promise_changed").data["change_reason"] == "The bank was quicker."


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "Thanks, Dave.", "promise": "by Friday"}, "The reply does not promise “by Friday” (any more)"),
        ({"body": REALISTIC, "promise": "within 9 days"}, "The reply does not promise “within 9 days”"),
        ({"body": REALISTIC, "promise": "x" * 201}, "Ensure this value has at most 200 characters (it has 201)."),
        ({"body": REALISTIC, "promise": "within 3 days", "reason": "x" * 2001}, "at most 2000 characters"),
        ({"body": "  ", "promise": "within 3 days"}, "This field is required."),
        ({"body": f"{REALISTIC}\x00", "promise": "within 3 days"}, "Null characters are not allowed."),
    ],
    ids=["no such phrase", "another phrase", "phrase too long", "reason too long", "no reply", "NUL"],
)
def test_a_bad_reply_and_promise_is_a_400_that_says_why_and_writes_nothing(data, message, client_for, ticket, alice):
    before = written(ticket)
    response = client_for(alice).post(action_url(ticket, "reply"), data)
    assert response.status_code == 400
    assert message in form_html(response, ticket, "reply")
    assert written(ticket) == before


def test_recording_a_promise_on_a_resolved_ticket_says_to_reopen(client_for, ticket, alice, carol):
    services.resolve(ticket, by=carol, summary="Refunded.")
    before = written(ticket)
    response = client_for(alice).post(action_url(ticket, "reply"), {"body": REALISTIC, "promise": "within 3 days"})
    assert response.status_code == 400
    assert written(ticket) == before


# --- Who may ------------------------------------------------------------------------------------------------


def test_bob_of_another_team_can_neither_read_nor_record_a_promise_on_daves_ticket(client_for, ticket, bob):
    before = written(ticket)
    assert client_for(bob).post(check_url(ticket), {"body": REALISTIC}).status_code == 404
    data = {"body": REALISTIC, "promise": "within 3 days"}
    assert client_for(bob).post(action_url(ticket, "reply"), data).status_code == 404
    assert written(ticket) == before


def test_eve_who_is_not_staff_and_anonymous_visitors_are_refused(client_for, ticket, eve):
    assert client_for(eve).post(check_url(ticket), {"body": REALISTIC}).status_code == 403
    anonymous = client_for(None).post(check_url(ticket), {"body": REALISTIC})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("login"))


def test_carol_the_supervisor_may_send_and_record(client_for, ticket, carol):
    data = {"body": REALISTIC, "promise": "within 3 days"}
    assert client_for(carol).post(action_url(ticket, "reply"), data).status_code == 302
    assert Promise.objects.get(ticket=ticket).made_by == carol
