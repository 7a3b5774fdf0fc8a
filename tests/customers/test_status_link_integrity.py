"""What a status link and the public form may change, and what they may not (issue #17, points 2, 3 and 5).

- A known customer's email on the public form does not rename them: what the sender typed stays on the
  request, and staff apply it (logged).
- One rating per resolution, in the database: rating again replaces it, the log keeps both, the figures count
  one.
- Staff replace a leaked link: the old one says it was replaced, the customer is emailed the new one; a resolved
  request's link stops taking answers after ``STATUS_LINK_ANSWER_DAYS``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer
from customers.services import update_customer
from tests.customers.test_pages import page, request_data
from tests.desk.helpers import action_url, html, ticket_url
from tickets import services
from tickets.models import CustomerEmail, Interaction, Rating, Ticket, ticket_writes
from tickets.supervision.figures import Period, report

pytestmark = pytest.mark.django_db


def status_url(ticket: Ticket) -> str:
    return reverse("customers:status", args=[ticket.token])


# --- 2. Anyone can rename a customer ---------------------------------------------------------------


def test_the_public_form_with_a_known_email_in_another_case_leaves_the_customers_record_alone(client, dave, category):
    dave.phone = "+44 20 7946 0000"
    dave.save()

    response = client.post("/", request_data(category, name="Mallory Impostor", email="DAVE@Example.COM",
                                             phone="+1 555 0199"))  # fmt: skip

    assert response.status_code == 302
    dave.refresh_from_db()
    assert (dave.name, dave.phone) == ("Dave Jones", "+44 20 7946 0000")
    # what the sender typed is kept on their own request
    ticket = Ticket.objects.get(customer=dave)
    opening = ticket.interactions.get()
    assert opening.customer_name == "Mallory Impostor"
    assert opening.data["sender"] == {"name": "Mallory Impostor", "phone": "+1 555 0199"}
    # and the acknowledgement greets the real customer, at their own address
    email = CustomerEmail.objects.get(ticket=ticket)
    assert (email.to, email.text_body.startswith("Hi Dave,")) == ("dave@example.com", True)


def test_the_public_api_with_a_known_email_leaves_the_customers_record_alone(api, dave, category):
    response = api().post(
        "/api/v1/requests/", request_data(category, name="Mallory Impostor", email="Dave@example.com")
    )

    assert response.status_code == 201
    dave.refresh_from_db()
    assert dave.name == "Dave Jones"


def test_the_agent_sees_what_the_sender_gave_beside_the_record_and_can_apply_it(client, client_for, dave, category,
                                                                                   alice):  # fmt: skip
    client.post("/", request_data(category, name="David Jones", email="dave@example.com", phone="+44 7700 900123"))
    ticket = Ticket.objects.get(customer=dave)
    agent = client_for(alice)

    shown = html(agent.get(ticket_url(ticket)))
    assert "This request was sent as <strong>David Jones</strong>, phone <strong>+44 7700 900123</strong>" in shown
    assert 'Call them <strong class="text-body">Dave</strong>' in shown  # greeted by the record's name

    response = agent.post(action_url(ticket, "use-sender-details"), {})

    assert response.status_code == 302
    dave.refresh_from_db()
    assert (dave.name, dave.phone) == ("David Jones", "+44 7700 900123")
    change = ticket.interactions.get(kind="customer_updated")
    assert (change.author, change.is_public) == (alice, False)
    assert change.data == {"name": ["Dave Jones", "David Jones"], "phone": ["", "+44 7700 900123"]}
    assert "This request was sent as" not in html(agent.get(ticket_url(ticket)))


def test_a_sender_who_gave_no_phone_never_erases_the_one_on_record(client_for, dave, category, alice):
    dave.phone = "555-0100"
    dave.save()
    ticket = services.open_ticket(name="David Jones", email="dave@example.com", subject="Hi", body="Hi",
                                  category=category)  # fmt: skip

    services.use_sender_details(ticket, by=alice)

    dave.refresh_from_db()
    assert (dave.name, dave.phone) == ("David Jones", "555-0100")


def test_details_the_record_already_said_are_not_kept_nor_offered_when_the_record_changes_later(
    client, client_for, dave, category, alice, bob
):
    # given a first request sent as the record says, and one a colleague took down under another name
    client.post("/", request_data(category, name="Dave Jones", email="dave@example.com", phone=""))
    first = Ticket.objects.get(customer=dave)
    taken_down = services.open_ticket(name="D. J.", email="dave@example.com", subject="Call", body="Rang us.",
                                      category=category, channel="phone", by=alice)  # fmt: skip
    # when staff later correct his name
    update_customer(dave, name="David Jones", by=alice)

    # then neither request offers to put the old name back
    for ticket in (first, taken_down):
        assert "sender" not in ticket.interactions.get(kind="customer_message").data
        assert "This request was sent as" not in html(client_for(alice).get(ticket_url(ticket)))


def test_a_later_message_signed_with_another_name_is_offered_too(client_for, ticket, alice):
    services.receive_customer_message(ticket, body="Sorry, it's David.", name="David Jones")

    shown = html(client_for(alice).get(ticket_url(ticket)))

    assert "This request was sent as <strong>David Jones</strong>" in shown


def test_the_api_applies_the_senders_details_too(api, client, dave, category, alice):
    client.post("/", request_data(category, name="David Jones", email="dave@example.com", phone=""))
    ticket = Ticket.objects.get(customer=dave)

    response = api(alice).post(f"/api/v1/tickets/{ticket.reference}/use-sender-details/", {}, format="json")

    assert response.status_code == 200
    dave.refresh_from_db()
    assert dave.name == "David Jones"
    again = api(alice).post(f"/api/v1/tickets/{ticket.reference}/use-sender-details/", {}, format="json")
    assert again.status_code == 400
    assert "already says what the sender gave" in again.json()["error"]["message"]


# --- 3. Ratings can be stuffed --------------------------------------------------------------------


def rate(client, ticket, stars, comment=""):
    return client.post(reverse("customers:rate", args=[ticket.token]), {"rating": str(stars), "comment": comment})


def test_rating_again_replaces_the_rating_and_the_log_keeps_both(client, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")

    for stars in (5, 5, 5, 1):
        assert rate(client, ticket, stars).status_code == 302

    rating = Rating.objects.get(ticket=ticket)
    assert rating.stars == 1
    entries = list(Interaction.objects.filter(ticket=ticket, kind="rating").order_by("id"))
    assert [(e.data["rating"], e.data["replaces"]) for e in entries] == [(5, None), (5, 5), (5, 5), (1, 5)]
    assert "You rated our help 1 out of 5. Changed your mind?" in page(client.get(status_url(ticket)))


def test_stuffed_ratings_count_once_in_the_figures(client, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    for _ in range(20):
        rate(client, ticket, 5)

    figures = report(Period.last(1, now=timezone.now() + timedelta(minutes=1)), zone=timezone.get_current_timezone())

    assert (figures.total.rating, figures.total.rating_sum) == (1, 5)


def test_the_database_refuses_a_second_rating_of_one_resolution(ticket, alice):
    resolution = services.resolve(ticket, by=alice, summary="Refunded.")
    services.rate(ticket, rating=4)

    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(ticket=ticket, resolution=resolution, stars=5, team=ticket.team, rated_at=timezone.now())


def test_a_ticket_resolved_again_after_a_reopen_is_rated_again(client, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    rate(client, ticket, 2)
    services.reopen(ticket, reason="Still charged.")
    services.resolve(ticket, by=alice, summary="Refunded, really.")

    assert "Did this solve it?" in page(client.get(status_url(ticket)))
    rate(client, ticket, 5)

    assert sorted(Rating.objects.filter(ticket=ticket).values_list("stars", flat=True)) == [2, 5]


# --- 5. Status links never change -----------------------------------------------------------------


def test_staff_replace_a_leaked_link_the_old_one_says_so_and_the_customer_gets_the_new_one(client, ticket, alice):
    old_url = status_url(ticket)

    services.replace_status_link(ticket, by=alice, note="Forwarded to a supplier.")

    ticket.refresh_from_db()
    replaced = client.get(old_url)
    assert replaced.status_code == 410
    assert "This link was replaced" in page(replaced)
    assert ticket.subject not in page(replaced) and ticket.reference not in page(replaced)  # it says nothing else
    assert client.get(status_url(ticket)).status_code == 200
    email = CustomerEmail.objects.get(interaction__kind="link_replaced")
    assert email.to == "dave@example.com" and status_url(ticket) in email.text_body and old_url not in email.text_body
    # the old link's answers are refused too, and so are its other pages
    assert client.post(f"{old_url}reply/", {"body": "Hello?"}).status_code == 410
    assert client.get(reverse("customers:received", args=[old_url.split("/")[2]])).status_code == 410
    assert not Interaction.objects.filter(ticket=ticket, body="Hello?").exists()


def test_the_public_api_answers_a_replaced_link_with_410(api, ticket, alice):
    old = ticket.token
    services.replace_status_link(ticket, by=alice)

    response = api().get(f"/api/v1/status/{old}/")

    assert response.status_code == 410
    assert response.json()["error"]["code"] == "gone"
    assert api().get("/api/v1/status/never-was-a-token-of-ours-at-all-1234/").status_code == 404


def test_a_link_replaced_twice_keeps_both_old_links_replaced(client, ticket, alice):
    first = ticket.token
    services.replace_status_link(ticket, by=alice)
    ticket.refresh_from_db()
    second = ticket.token
    services.replace_status_link(ticket, by=alice)

    for token in (first, second):
        assert client.get(reverse("customers:status", args=[token])).status_code == 410


def test_a_resolved_requests_link_stops_taking_answers_after_the_documented_period(client, ticket, alice, settings):
    settings.STATUS_LINK_ANSWER_DAYS = 30
    services.resolve(ticket, by=alice, summary="Refunded.", now=timezone.now() - timedelta(days=31))

    shown = page(client.get(status_url(ticket)))
    refused = [rate(client, ticket, 1), client.post(f"{status_url(ticket)}reopen/", {"reason": "Again!"})]

    assert "This link no longer takes answers" in shown and "Send my rating" not in shown
    for response in refused:
        assert response.status_code == 400
        assert "no longer takes answers" in page(response)
    assert not Rating.objects.exists()
    assert Ticket.objects.get(pk=ticket.pk).status == "resolved"


def test_within_the_period_a_resolved_requests_link_still_takes_answers(client, ticket, alice, settings):
    settings.STATUS_LINK_ANSWER_DAYS = 30
    services.resolve(ticket, by=alice, summary="Refunded.", now=timezone.now() - timedelta(days=29))

    assert rate(client, ticket, 4).status_code == 302
    assert client.post(f"{status_url(ticket)}reopen/", {"reason": "It bounced."}).status_code == 302


def test_the_public_api_says_what_the_link_still_takes(api, ticket, alice, settings):
    settings.STATUS_LINK_ANSWER_DAYS = 30
    services.resolve(ticket, by=alice, summary="Refunded.")
    services.rate(ticket, rating=3)

    fresh = api().get(f"/api/v1/status/{ticket.token}/").json()
    assert (fresh["rated"], fresh["rating"], fresh["can_rate"], fresh["can_reopen"]) == (True, 3, True, True)

    settings.STATUS_LINK_ANSWER_DAYS = 1
    with ticket_writes():  # standing in for time passing
        Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=2))
    stale = api().get(f"/api/v1/status/{ticket.token}/").json()
    assert (stale["can_rate"], stale["can_reopen"], stale["can_reply"]) == (False, False, False)


def test_staff_replace_a_link_from_the_desk_and_the_api(client_for, api, ticket, alice, carol):
    first = ticket.token
    response = client_for(alice).post(action_url(ticket, "new-link"), {"note": ""})
    assert response.status_code == 302
    ticket.refresh_from_db()
    second = ticket.token
    assert second != first

    response = api(carol).post(f"/api/v1/tickets/{ticket.reference}/new-link/", {"note": "Leaked."}, format="json")

    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.token not in (first, second)
    assert ticket.token not in response.content.decode()  # staff never see the customer's secret
    assert Customer.objects.count() == 1
