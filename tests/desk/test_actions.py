"""The ticket page's action forms: a good post does the thing and says so; a bad one explains and keeps the input.

Every post here is alice's (Billing, the team of Dave's ticket) unless it says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import (
    VALID_POSTS,
    action_url,
    check_url,
    form_html,
    html,
    next_fall_back,
    prepare,
    ticket_url,
    typed,
    utc,
    written,
)
from tests.factories import history_says
from tickets import services
from tickets.action_forms import ACTION_LABELS, ACTIONS
from tickets.models import CustomerEmail, Promise, Team, status_token_digest

# --- A valid post does the thing ---------------------------------------------------------------


def replied(ticket, alice):
    reply = ticket.interactions.get(kind="reply")
    assert (reply.body, reply.is_public, reply.author) == ("We have refunded the second charge.", True, alice)
    assert ticket.status == "open"
    assert ticket.first_response_at == reply.created_at


def noted(ticket, alice):
    note = ticket.interactions.get(kind="note")
    assert (note.body, note.is_public, note.author) == ("Payment provider shows two captures.", False, alice)


def called(ticket, alice):
    call = ticket.interactions.get(kind="call")
    assert (call.body, call.data["duration_seconds"], call.author) == ("Walked Dave through the refund.", 720, alice)


def promised(ticket, alice):
    promise = Promise.objects.get(ticket=ticket)
    assert (promise.words, promise.made_by, promise.outcome) == ("By this time tomorrow.", alice, "pending")
    assert timedelta(hours=23) < promise.due_at - timezone.now() <= timedelta(days=1)
    assert (ticket.promise_state, ticket.promise_due_at) == ("on_track", promise.due_at)
    assert ticket.interactions.filter(kind="promise_made").exists()


def transferred(ticket, alice):
    assert ticket.team.name == "Technical"
    assert ticket.interactions.get(kind="transfer").body == "Gateway bug, see logs."


def escalated(ticket, alice):
    assert (ticket.escalation_level.position, ticket.team.name) == (2, "Technical")
    assert ticket.interactions.get(kind="escalation").body == "Needs a refund above my limit."


def assigned(ticket, alice):
    assert ticket.assignee == alice
    assert ticket.interactions.filter(kind="assignment", author=alice).exists()


def status_changed(ticket, alice):
    assert ticket.status == "waiting"
    change = ticket.interactions.get(kind="status_change")
    assert (change.data, change.body) == ({"from": "new", "to": "waiting"}, "Asked for the invoice number.")


def resolved(ticket, alice):
    assert ticket.status == "resolved"
    assert ticket.interactions.get(kind="resolution").body == "Refunded the duplicate charge."


def reopened(ticket, alice):
    assert ticket.status == "open"
    assert ticket.interactions.get(kind="reopen").body == "The refund never arrived."


def details_changed(ticket, alice):
    assert (ticket.subject, ticket.priority) == ("Charged twice in November", 3)
    change = ticket.interactions.get(kind="details_changed")
    assert (change.author, change.is_public) == (alice, False)
    assert change.data == {"subject": ["I was charged twice", "Charged twice in November"], "priority": [2, 3]}
    assert change.body == "Subject: I was charged twice → Charged twice in November. Priority: Normal → High."


def sender_details_used(ticket, alice):
    assert ticket.customer.name == "David Jones"
    change = ticket.interactions.get(kind="customer_updated")
    assert (change.author, change.is_public, change.data) == (alice, False, {"name": ["Dave Jones", "David Jones"]})


def link_replaced(ticket, alice):
    old = ticket.replaced_links.get()
    assert old.digest != status_token_digest(ticket.token)
    change = ticket.interactions.get(kind="link_replaced")
    assert (change.author, change.is_public, change.body) == (alice, False, "He forwarded the link to his supplier.")
    email = CustomerEmail.objects.get(interaction=change)
    assert (email.to, f"/status/{ticket.token}/" in email.text_body) == ("dave@example.com", True)


EFFECTS = {
    "reply": ("Reply sent.", replied),
    "note": ("Note added.", noted),
    "call": ("Call logged.", called),
    "promise": ("Promise made.", promised),
    "transfer": ("Ticket handed over.", transferred),
    "escalate": ("Escalated.", escalated),
    "assign": ("Assignment changed.", assigned),
    "status": ("Status changed.", status_changed),
    "resolve": ("Resolved.", resolved),
    "reopen": ("Reopened.", reopened),
    "details": ("Details changed.", details_changed),
    "use-sender-details": ("The customer's record now says what the sender gave.", sender_details_used),
    "new-link": (
        "A new status link was emailed to the customer; the old one no longer opens the request.",
        link_replaced,
    ),
}


def test_every_action_has_a_success_test():
    assert set(EFFECTS) == set(ACTIONS)


@pytest.mark.parametrize("action", EFFECTS)
def test_alice_posting_a_valid_form_does_it_and_returns_to_the_ticket_with_a_message(
    action, client_for, ticket, alice, technical
):
    # given Dave's ticket (resolved first, to reopen it)
    prepare(action, ticket, by=alice)
    # when alice fills in the form correctly
    response = client_for(alice).post(action_url(ticket, action), VALID_POSTS[action](ticket))
    # then the service did it, and she is back on the ticket page, told it is done (or, when she handed it
    # to a team she isn't in, back on her queue, told where it went)
    message, effect = EFFECTS[action]
    assert response.status_code == 302
    handed_away = action in ("transfer", "escalate")
    assert response["Location"] == ("/desk/" if handed_away else ticket_url(ticket))
    told = [str(m) for m in get_messages(response.wsgi_request)]
    assert told[0] == message
    if handed_away:
        assert told[1] == f"{ticket.reference} is now with Technical; it has left your queue."
    ticket.refresh_from_db()
    effect(ticket, alice)


def test_the_success_message_shows_on_the_ticket_page(client_for, ticket, alice):
    response = client_for(alice).post(action_url(ticket, "note"), {"body": "Checked."}, follow=True)
    assert response.status_code == 200
    assert "Note added." in html(response)


# --- A bad post explains, keeps the input, and writes nothing ------------------------------------

SUMMARY = "Talked through the refund with Dave"
WORDS = "Tomorrow by noon, as agreed"
NOTE = "Customer went quiet after the call"


@dataclass(frozen=True)
class Bad:
    action: str
    data: dict[str, str]
    message: str | None  # None: the message is checked by its own test below
    kept: tuple[str, ...] = ()
    tz: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # fields whose value is a name to look up
    prepared: bool = True  # brought to where the action makes sense first (``prepare``)


BAD = {
    "reply: empty": Bad("reply", {"body": "   "}, "This field is required."),
    "note: empty": Bad("note", {"body": ""}, "This field is required."),
    "call: no summary": Bad("call", {"minutes": "15", "summary": ""}, "This field is required.", ('value="15"',)),
    "call: 0 minutes": Bad(
        "call", {"minutes": "0", "summary": SUMMARY}, "greater than or equal to 1", (SUMMARY, 'value="0"')
    ),
    "call: 481 minutes": Bad(
        "call", {"minutes": "481", "summary": SUMMARY}, "less than or equal to 480", (SUMMARY, 'value="481"')
    ),
    "call: abc minutes": Bad(
        "call", {"minutes": "abc", "summary": SUMMARY}, "Enter a whole number.", (SUMMARY, 'value="abc"')
    ),
    "promise: no words": Bad(
        "promise", {"due_at": "2030-01-02T10:00", "words": ""}, "This field is required.", ('value="2030-01-02T10:00"',)
    ),
    "promise: in the past": Bad(
        "promise",
        {"due_at": "2020-01-01T10:00", "words": WORDS},
        "That time has already passed",
        (WORDS, 'value="2020-01-01T10:00"'),
    ),
    "promise: not a time": Bad(
        "promise", {"due_at": "tomorrow", "words": WORDS}, "Enter a date and time", (WORDS, 'value="tomorrow"')
    ),
    "promise: London, the clocks jump over it": Bad(
        "promise",
        {"due_at": "2027-03-28T01:30", "words": WORDS},
        None,
        (WORDS, 'value="2027-03-28T01:30"'),
        tz="Europe/London",
    ),
    "promise: London, happens twice, which one unsaid": Bad(
        "promise",
        {"due_at": "2027-10-31T01:30", "words": WORDS},
        None,
        (WORDS, 'value="2027-10-31T01:30"'),
        tz="Europe/London",
    ),
    "transfer: neither team nor person": Bad(
        "transfer",
        {"team": "", "assignee": "", "note": NOTE},
        "Choose the team or the person who takes the ticket.",
        (NOTE,),
    ),
    "transfer: no note": Bad("transfer", {"note": ""}, "This field is required.", extra={"team": "Technical"}),
    "transfer: to where it already is": Bad(
        "transfer", {"note": NOTE}, "The ticket is already there.", (NOTE,), extra={"team": "Billing"}
    ),
    "escalate: no note": Bad("escalate", {"note": " "}, "This field is required."),
    "assign: nobody who exists": Bad("assign", {"assignee": "99999"}, "Select a valid choice."),
    "assign: someone of another team": Bad(
        "assign", {}, "bob is not in Billing: transfer the ticket", extra={"assignee": "bob"}
    ),
    "status: a move the rules forbid": Bad(
        "status", {"to": "closed", "note": NOTE}, "closed is not a move this ticket can make now", (NOTE,)
    ),
    "status: not a status the form offers": Bad(
        "status", {"to": "resolved"}, "resolved is not a move this ticket can make now."
    ),
    "resolve: no summary": Bad("resolve", {"summary": ""}, "This field is required."),
    "reopen: no reason": Bad("reopen", {"reason": "  "}, "This field is required."),
    "details: no subject": Bad("details", {"subject": " ", "priority": "2"}, "This field is required."),
    "details: not a priority": Bad(
        "details",
        {"subject": "Charged twice", "priority": "9"},
        "Select a valid choice. 9 is not one of",
        ("Charged twice",),
    ),
    "use-sender-details: the record already says it": Bad(
        "use-sender-details", {}, "record already says what the sender gave", prepared=False
    ),
    "new-link: a note too long": Bad(
        "new-link", {"note": "x" * 2001}, "at most 2000 characters", ('value="' + "x" * 2001,)
    ),
}


def resolve_names(extra: dict[str, str]) -> dict[str, str]:
    """Form values that name a team or person, as the select sends them (their id)."""
    lookup = {
        "team": lambda name: Team.objects.get(name=name),
        "assignee": lambda name: User.objects.get(username=name),
    }
    return {key: str(lookup[key](name).pk) for key, name in extra.items()}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_a_bad_post_is_a_400_that_explains_keeps_the_input_and_writes_nothing(
    case, client_for, ticket, alice, bob, technical
):
    # given Dave's ticket (resolved first, to reopen it)
    if case.prepared:
        prepare(case.action, ticket, by=alice)
    client = client_for(alice)
    if case.tz:
        client.cookies["tz"] = case.tz
    before = written(ticket)
    # when alice posts the form with something wrong in it
    response = client.post(action_url(ticket, case.action), {**case.data, **resolve_names(case.extra)})
    # then the ticket page comes back with that form open, the problem next to it, and her input kept
    assert response.status_code == 400
    form = form_html(response, ticket, case.action)
    if case.message is not None:
        assert case.message in form
    assert "invalid-feedback" in form or "alert-danger" in form
    for text in case.kept:
        assert text in form
    if case.action in dict(ACTION_LABELS):  # the action's tab is open (the others sit on the customer card)
        assert f'class="tab-pane show active" id="pane-{case.action}"' in html(response)
    # and nothing was written
    assert written(ticket) == before


def test_every_action_has_a_bad_input_test():
    assert {case.action for case in BAD.values()} == set(ACTIONS)


def test_escalating_at_the_top_of_the_path_says_so(client_for, ticket, carol):
    services.escalate(ticket, by=carol, note="Needs Technical.")
    before = written(ticket)
    response = client_for(carol).post(action_url(ticket, "escalate"), {"note": "Higher still."})
    assert response.status_code == 400
    assert "already at the top of its path" in form_html(response, ticket, "escalate")
    assert "Higher still." in form_html(response, ticket, "escalate")
    assert written(ticket) == before


def test_changing_a_promise_without_saying_why_asks_for_the_reason(client_for, ticket, alice):
    # given a promise already made
    client = client_for(alice)
    client.post(action_url(ticket, "promise"), VALID_POSTS["promise"](ticket))
    before = written(ticket)
    # when alice changes the time but not the reason
    later = typed(timezone.now() + timedelta(days=2))
    response = client.post(action_url(ticket, "promise"), {"due_at": later, "words": WORDS})
    # then she is asked why, the customer will read it
    assert response.status_code == 400
    form = form_html(response, ticket, "promise")
    assert "Say why the promise changes" in form
    assert WORDS in form
    assert written(ticket) == before


# --- The overpromise guard ---------------------------------------------------------------------


@pytest.fixture
def history(category):
    """12 tickets say this category takes about 6 hours."""
    return history_says(category, timedelta(hours=6))


def test_promising_sooner_than_history_without_a_reason_shows_the_reason_box_and_the_estimate(
    client_for, ticket, alice, history
):
    before = written(ticket)
    soon = typed(timezone.now() + timedelta(hours=2))
    response = client_for(alice).post(action_url(ticket, "promise"), {"due_at": soon, "words": WORDS})
    assert response.status_code == 400
    form = form_html(response, ticket, "promise")
    assert 'data-guard="sooner"' in form
    assert "8 in 10 tickets of this category were solved within 6 h (from 12 tickets)." in form
    assert 'id="promise_reason" name="reason" rows="2" required' in form
    assert "say why it is realistic this time." in form
    assert WORDS in form
    assert f'value="{soon}"' in form
    assert written(ticket) == before


def test_promising_sooner_than_history_with_a_reason_is_made_and_remembers_why(client_for, ticket, alice, history):
    soon = typed(timezone.now() + timedelta(hours=2))
    reason = "The fix is already deployed; only the refund remains."
    response = client_for(alice).post(action_url(ticket, "promise"), {"due_at": soon, "words": WORDS, "reason": reason})
    assert response.status_code == 302
    promise = Promise.objects.get(ticket=ticket)
    assert (promise.overrode_estimate, promise.override_reason, promise.estimate) == (
        True,
        reason,
        timedelta(hours=6),
    )


def test_the_live_guard_calls_a_time_after_the_estimate_realistic(client_for, ticket, alice, history):
    response = client_for(alice).get(check_url(ticket), {"due_at": typed(timezone.now() + timedelta(hours=7))})
    assert response.status_code == 200
    assert 'data-guard="realistic"' in html(response)
    assert "<html" not in html(response)


def test_the_live_guard_warns_about_a_time_sooner_than_the_estimate_and_asks_why(client_for, ticket, alice, history):
    response = client_for(alice).get(
        check_url(ticket), {"due_at": typed(timezone.now() + timedelta(hours=2)), "reason": "Already fixed"}
    )
    assert 'data-guard="sooner"' in html(response)
    assert "were solved within 6 h (from 12 tickets)" in html(response)
    assert ">Already fixed</textarea>" in html(response)


def test_the_live_guard_says_when_the_typed_text_is_not_a_time(client_for, ticket, alice):
    response = client_for(alice).get(check_url(ticket), {"due_at": "half past never"})
    assert response.status_code == 200
    assert "Enter a date and time" in html(response)


def test_the_live_guard_with_nothing_typed_says_nothing(client_for, ticket, alice):
    response = client_for(alice).get(check_url(ticket))
    assert response.status_code == 200
    assert "alert" not in html(response)


def test_the_live_guard_says_a_past_time_has_passed(client_for, ticket, alice):
    response = client_for(alice).get(check_url(ticket), {"due_at": "2020-01-01T10:00"})
    assert "already passed" in html(response)


# --- Promises typed around the clock changes (Europe/London) -----------------------------------


def post_promise_in_london(client_for, ticket, alice, **data):
    client = client_for(alice)
    client.cookies["tz"] = "Europe/London"
    return client.post(action_url(ticket, "promise"), {"words": WORDS, **data})


def test_a_time_the_clocks_jump_over_is_refused_naming_the_gap(client_for, ticket, alice):
    response = post_promise_in_london(client_for, ticket, alice, due_at="2027-03-28T01:30")
    assert response.status_code == 400
    form = form_html(response, ticket, "promise")
    assert "01:30 on 28 March does not exist in Europe/London" in form
    assert "Choose a time before 01:00 or from 02:00." in form


def test_a_time_that_happens_twice_is_refused_asking_which_one(client_for, ticket, alice):
    response = post_promise_in_london(client_for, ticket, alice, due_at="2027-10-31T01:30")
    assert response.status_code == 400
    form = form_html(response, ticket, "promise")
    assert "01:30 on 31 October happens twice in Europe/London" in form
    assert "the first (BST) or the second (GMT)" in form


@pytest.mark.parametrize(("fold", "utc_hour"), [("0", 0), ("1", 1)])
def test_a_time_that_happens_twice_is_accepted_once_alice_says_which(
    fold, utc_hour, client_for, ticket, alice, settings
):
    # given the next night the clocks go back in London (the horizon stretched to reach it)
    settings.PROMISE_MAX_HORIZON_DAYS = 400
    night = next_fall_back("Europe/London")
    # when alice promises 01:30 that night and says which one she means
    response = post_promise_in_london(client_for, ticket, alice, due_at=f"{night:%Y-%m-%d}T01:30", fold=fold)
    # then the first 01:30 is BST (00:30 UTC), the second GMT (01:30 UTC)
    assert response.status_code == 302
    assert Promise.objects.get(ticket=ticket).due_at == utc(night.year, night.month, night.day, utc_hour, 30)


def test_the_live_guard_accepts_a_time_that_happens_twice_once_alice_says_which(client_for, ticket, alice, settings):
    settings.PROMISE_MAX_HORIZON_DAYS = 400  # 2027-10-31 is further away than the usual 30 days
    client = client_for(alice)
    client.cookies["tz"] = "Europe/London"
    response = client.get(check_url(ticket), {"due_at": "2027-10-31T01:30", "fold": "1"})
    assert "data-guard=" in html(response)


def test_a_time_typed_in_new_york_is_stored_as_that_moment(client_for, ticket, alice):
    # given alice's browser is in New York
    client = client_for(alice)
    client.cookies["tz"] = "America/New_York"
    due = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    # when she promises a wall-clock time there
    response = client.post(action_url(ticket, "promise"), {"due_at": typed(due, "America/New_York"), "words": WORDS})
    # then the promise is due at that instant
    assert response.status_code == 302
    assert Promise.objects.get(ticket=ticket).due_at == due


# --- Bugs around tickets that are no longer open, or no longer alice's -------------------------


@pytest.mark.parametrize("action", ["transfer", "escalate"])
def test_alice_handing_the_ticket_to_another_team_lands_on_a_page_she_can_see(
    action, client_for, ticket, alice, technical
):
    response = client_for(alice).post(action_url(ticket, action), VALID_POSTS[action](ticket), follow=True)
    assert response.status_code == 200
    assert EFFECTS[action][0] in html(response)


def test_resolving_a_ticket_someone_just_resolved_says_why_it_cannot(client_for, ticket, alice, carol):
    services.resolve(ticket, by=carol, summary="Refunded.")
    response = client_for(alice).post(action_url(ticket, "resolve"), {"summary": "Refunded it too."})
    assert response.status_code == 400
    assert "cannot move to Resolved" in html(response)


def test_a_resolved_tickets_page_offers_to_close_it(client_for, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    page = html(client_for(alice).get(ticket_url(ticket)))
    assert f'action="{action_url(ticket, "status")}"' in page


def test_closing_a_resolved_ticket_by_posting_the_status_form_works(client_for, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    response = client_for(alice).post(action_url(ticket, "status"), {"to": "closed"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "closed"


def test_reopening_a_closed_ticket_explains_it_is_final(client_for, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    services.change_status(ticket, to="closed", by=alice)
    before = written(ticket)
    response = client_for(alice).post(action_url(ticket, "reopen"), {"reason": "Still broken"})
    assert response.status_code == 400
    page = html(response)
    assert "it cannot move to Open" in page
    assert "closed is final" in page
    assert written(ticket) == before


def test_the_ticket_page_of_a_resolved_ticket_offers_only_reopening(client_for, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    page = html(client_for(alice).get(ticket_url(ticket)))
    assert f'action="{action_url(ticket, "reopen")}"' in page
    assert f'action="{action_url(ticket, "reply")}"' not in page


def test_the_queue_link_on_the_ticket_page_goes_back_to_the_queue(client_for, ticket, alice):
    assert f'href="{reverse("desk:queue")}"' in html(client_for(alice).get(ticket_url(ticket)))
