"""A reply that records the promise it makes, in one step: what the desk's "Send and record as the promise" and
the API's reply with ``promise`` do."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.commitments import the_commitment
from tickets.models import Interaction, Promise, Ticket
from tickets.services.base import ticket_service
from tickets.services.conversation import reply
from tickets.services.promises import make_promise


@ticket_service
def reply_with_promise(
    ticket: Ticket,
    *,
    by: User,
    body: str,
    phrase: str,
    reason: str = "",
    change_reason: str = "",
    now: datetime | None = None,
) -> tuple[Interaction, Promise]:
    """Send a reply and record as the promise the time it commits to in the words ``phrase`` ("by 3pm tomorrow").

    1. Read the reply's commitments in the customer's zone at ``now`` (``tickets.commitments``): ``phrase`` must
       be one of them. A time counted from now ("within two hours") counts from the moment it is sent.
    2. Send the reply, then make the promise with the sentence that holds the phrase as its words, through the
       services that do each alone; the customer is emailed the reply, not a second email for the promise it
       makes. One transaction: whatever refuses the promise (sooner than the estimate
       without a ``reason``, a change without a ``change_reason``, past the horizon) sends no reply either.
    """
    now = now or timezone.now()
    commitment = the_commitment(body or "", phrase, zone=ticket.customer.zone, now=now)
    if commitment is None:
        message = f"The reply does not promise “{phrase}” (any more): record a time it promises, or send it alone."
        raise ValidationError({"promise": message})
    interaction = reply(ticket, by=by, body=body, now=now)
    promise = make_promise(
        ticket,
        due_at=commitment.due_at,
        by=by,
        words=commitment.words,
        reason=reason,
        change_reason=change_reason,
        email_customer=False,  # the reply they are emailed says it in the rep's words
        now=now,
    )
    return interaction, promise
