"""The customer's pages: the request form, the confirmation, the private status page and what it allows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tickets import services
from tickets.models import CustomerEmail, Interaction, Rating, Ticket

pytestmark = pytest.mark.django_db


def request_data(topic, **changes):
    return {
        "name": "Zoë O'Brien",
        "email": "zoe@example.org",
        "phone": "+44 20 7946 0000",
        "category": topic.pk,
        "subject": "Card reader keeps rebooting",
        "description": "Since this morning it reboots every few minutes.",
        "submission_key": str(uuid.uuid4()),
        **changes,
    }


def page(response) -> str:
    return response.content.decode()


# --- The request form ---------------------------------------------------------------------------


def test_the_form_is_the_front_page(client, category):
    response = client.get("/")
    assert response.status_code == 200
    assert "How can we help?" in page(response) and category.name in page(response)


def test_a_request_becomes_a_ticket_and_a_confirmation(client, category):
    response = client.post("/", request_data(category))

    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/received/{ticket.token}/"
    assert ticket.interactions.get().customer_name == "Zoë O'Brien"
    confirmation = page(client.get(response["Location"]))
    assert ticket.reference in confirmation and f"/status/{ticket.token}/" in confirmation
    assert "usually resolved within <strong>4 h</strong>" in confirmation
    assert CustomerEmail.objects.get().text_body.startswith("Hi Zoë,")


def test_the_same_form_sent_twice_opens_one_ticket(client, category):
    data = request_data(category)
    first, again = client.post("/", data), client.post("/", data)

    assert Ticket.objects.count() == 1
    assert first["Location"] == again["Location"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("subject", "x" * 201, "at most 200 characters"),
        ("description", "Hello\x00there", "invisible control characters"),
        ("phone", "call me maybe", "Use digits, spaces"),
        ("category", "99999", "Select a valid choice"),
    ],
)
def test_bad_input_is_explained_next_to_the_field_and_keeps_what_was_typed(client, category, field, value, message):
    response = client.post("/", request_data(category, **{field: value}))

    assert response.status_code == 400
    assert message in page(response)
    kept = "Card reader keeps rebooting" if field == "description" else "Since this morning it reboots every few"
    assert kept in page(response)
    assert not Ticket.objects.exists()


def test_a_bot_filling_the_honeypot_is_thanked_and_ignored(client, category):
    response = client.post("/", request_data(category, website="http://spam.example"))

    assert response.status_code == 200 and "Thank you" in page(response)
    assert not Ticket.objects.exists()


def test_too_many_requests_from_one_address_get_a_please_wait_page(client, category, settings):
    settings.REQUESTS_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert client.post("/", request_data(category, email=f"p{n}@example.org")).status_code == 302

    response = client.post("/", request_data(category, email="p3@example.org"))

    assert response.status_code == 429 and "Please wait" in page(response)
    assert Ticket.objects.count() == 2


def test_too_many_requests_for_one_email_get_a_please_wait_page(client, category, settings):
    settings.REQUESTS_PER_EMAIL_PER_HOUR = 1
    client.post("/", request_data(category))

    response = client.post("/", request_data(category, email="ZOE@example.org"))

    assert response.status_code == 429


# --- The status page ----------------------------------------------------------------------------


def status_url(ticket) -> str:
    return reverse("customers:status", args=[ticket.token])


def test_the_status_page_shows_the_public_story_and_never_an_internal_note(client, ticket, alice):
    services.reply(ticket, by=alice, body="We are on it.")
    services.add_note(ticket, by=alice, body="Customer seems upset; refund quickly.")

    response = client.get(status_url(ticket))

    assert response.status_code == 200
    assert "We are on it." in page(response) and "refund quickly" not in page(response)
    assert "Alice" in page(response) and "with our Billing team" in page(response)
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def test_a_wrong_token_is_the_same_404_as_a_missing_ticket(client, ticket):
    wrong = client.get(reverse("customers:status", args=[ticket.token[:-1] + "x"]))
    missing = client.get(reverse("customers:status", args=["no-such-request-anywhere-at-all-1234"]))

    assert wrong.status_code == missing.status_code == 404
    assert page(wrong) == page(missing)


def test_guessing_tokens_is_rate_limited(client, ticket, settings):
    settings.STATUS_VIEWS_PER_IP_PER_MINUTE = 3
    for n in range(3):
        client.get(reverse("customers:status", args=[f"guess-{n}-aaaaaaaaaaaaaaaaaaaaaaaa"]))

    assert client.get(status_url(ticket)).status_code == 429


def test_one_customers_link_never_shows_another_customers_request(client, ticket, category):
    other = services.open_ticket(
        name="Mia Wong", email="mia@example.com", subject="Locked out", body="Secret details", category=category
    )

    assert "Secret details" not in page(client.get(status_url(ticket)))
    assert "Secret details" in page(client.get(status_url(other)))


def test_a_reply_from_the_status_page_reaches_the_ticket_and_restarts_a_paused_clock(client, ticket, alice):
    services.change_status(ticket, to="waiting", by=alice)

    response = client.post(reverse("customers:reply", args=[ticket.token]), {"body": "Here is the receipt."})

    ticket.refresh_from_db()
    assert response.status_code == 302
    assert ticket.status == "open"
    assert ticket.interactions.filter(kind="customer_message", body="Here is the receipt.").exists()


def test_an_empty_reply_is_explained(client, ticket):
    response = client.post(reverse("customers:reply", args=[ticket.token]), {"body": " "})
    assert response.status_code == 400 and "This field is required." in page(response)


def test_after_resolution_the_customer_rates_the_help(client, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    assert "Did this solve it?" in page(client.get(status_url(ticket)))

    client.post(reverse("customers:rate", args=[ticket.token]), {"rating": "5", "comment": "Quick and kind."})

    entry = Interaction.objects.get(ticket=ticket, kind="rating")
    rating = Rating.objects.get(ticket=ticket)
    # The rating names whose help it rates: the resolver and the team, for the supervisor's figures.
    assert (rating.stars, rating.comment, rating.agent, rating.team_id) == (5, "Quick and kind.", alice, ticket.team_id)
    assert (entry.data["rating"], entry.body, entry.is_public, entry.author_kind) == (
        5,
        "Quick and kind.",
        True,
        "customer",
    )
    after = page(client.get(status_url(ticket)))
    assert "Did this solve it?" not in after and "Still a problem?" in after  # reopening stays one click away
    assert "You rated our help 5 out of 5." in after


@pytest.mark.parametrize("rating", ["0", "6", "five", ""])
def test_a_rating_outside_1_to_5_is_refused(client, ticket, alice, rating):
    services.resolve(ticket, by=alice, summary="Refunded.")
    response = client.post(reverse("customers:rate", args=[ticket.token]), {"rating": rating})
    assert response.status_code == 400
    assert not Interaction.objects.filter(kind="rating").exists()


def test_no_it_did_not_reopens_with_the_reason(client, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")

    client.post(reverse("customers:reopen", args=[ticket.token]), {"reason": "Still charged twice."})

    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert ticket.interactions.filter(kind="reopen", body="Still charged twice.", author_kind="customer").exists()


# --- Resend my links ----------------------------------------------------------------------------


def links_emails():
    return CustomerEmail.objects.filter(interaction__isnull=True)


def test_a_known_address_gets_its_open_links_by_email(client, ticket, category):
    second = services.open_ticket(name="Dave", email="dave@example.com", subject="Also", body="Also", category=category)

    response = client.post(reverse("customers:links"), {"email": "DAVE@example.com"})

    assert response.status_code == 200 and "Check your inbox" in page(response)
    [email] = links_emails()
    assert email.to == "dave@example.com" and email.text_body.startswith("Hi Dave,")
    assert f"/status/{ticket.token}/" in email.text_body and f"/status/{second.token}/" in email.text_body


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, ticket):
    known = page(client.post(reverse("customers:links"), {"email": "dave@example.com"}))
    unknown = page(client.post(reverse("customers:links"), {"email": "nobody@example.com"}))

    assert known.replace("dave@example.com", "X") == unknown.replace("nobody@example.com", "X")
    assert links_emails().count() == 1


def test_asking_for_links_again_and_again_is_limited(client, ticket):
    for _ in range(3):
        client.post(reverse("customers:links"), {"email": "dave@example.com"})

    assert client.post(reverse("customers:links"), {"email": "dave@example.com"}).status_code == 429
    assert links_emails().count() == 3


def test_a_bad_address_is_explained(client):
    response = client.post(reverse("customers:links"), {"email": "not an email"})
    assert response.status_code == 400 and "Enter a valid email address." in page(response)


# --- Attachments --------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


def test_files_come_with_the_request_under_generated_names(client, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = request_data(category, attachments=[upload("screen shot.png", PNG), upload("log.txt", b"ERR 42\n")])

    response = client.post("/", data)

    ticket = Ticket.objects.get()
    assert response.status_code == 302
    files = list(ticket.attachments.order_by("original_name"))
    assert [(f.original_name, f.content_type, f.size) for f in files] == [
        ("log.txt", "text/plain", 7),
        ("screen shot.png", "image/png", len(PNG)),
    ]
    assert all(f.file.name.startswith("attachments/") and "screen" not in f.file.name for f in files)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("invoice.exe", b"MZ\x90\x00", "we accept PDF, PNG"),
        ("photo.png", b"<script>alert(1)</script>", "does not look like a PNG file"),
        ("empty.pdf", b"", "is empty"),
        ("../../etc/passwd.txt", b"\x00\x01binary", "does not look like a TXT file"),
    ],
)
def test_a_file_we_cannot_take_is_refused_by_name_and_nothing_is_stored(client, category, name, content, message):
    response = client.post("/", request_data(category, attachments=[upload(name, content)]))

    assert response.status_code == 400
    assert message in page(response) and "Card reader keeps rebooting" in page(response)
    assert not Ticket.objects.exists()


def test_too_many_or_too_large_files_are_refused(client, category, settings):
    settings.ATTACHMENT_MAX_FILES = 1
    two = [upload("a.txt", b"a"), upload("b.txt", b"b")]
    assert "at most 1 files" in page(client.post("/", request_data(category, attachments=two)))

    settings.ATTACHMENT_MAX_FILES, settings.ATTACHMENT_MAX_MB = 5, 1
    big = [upload("big.txt", b"x" * (1024 * 1024 + 1))]
    assert "larger than 1 MB" in page(client.post("/", request_data(category, attachments=big)))


def test_path_tricks_in_a_file_name_are_only_a_display_name(client, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.post("/", request_data(category, attachments=[upload("..\\..\\windows\\evil.txt", b"hello")]))

    attachment = Ticket.objects.get().attachments.get()
    assert attachment.original_name == "evil.txt"
    assert (tmp_path / attachment.file.name).exists()


def test_a_file_is_served_only_as_a_download_to_the_link_holder_and_the_team(
    client, category, settings, tmp_path, alice, bob, django_user_model
):
    settings.MEDIA_ROOT = tmp_path
    client.post("/", request_data(category, attachments=[upload("note.txt", b"<html><script>x</script>")]))
    ticket = Ticket.objects.get()
    file = ticket.attachments.get()

    response = client.get(reverse("customers:attachment", args=[ticket.token, file.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<html><script>x</script>"

    assert (
        client.get(reverse("customers:attachment", args=["wrong-token-aaaaaaaaaaaaaaaaaaaa", file.pk])).status_code
        == 404
    )
    desk_url = reverse("desk:attachment", args=[ticket.reference, file.pk])
    client.force_login(alice)
    assert client.get(desk_url).status_code == 200
    client.force_login(bob)
    assert client.get(desk_url).status_code == 404


def test_a_reply_from_the_status_page_can_carry_files(client, ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.post(
        reverse("customers:reply", args=[ticket.token]),
        {"body": "Screenshot attached.", "attachments": [upload("error.png", PNG)]},
    )

    message = ticket.interactions.get(body="Screenshot attached.")
    assert message.attachments.get().original_name == "error.png"
    assert "error.png" in page(client.get(status_url(ticket)))


def test_an_expired_link_is_the_same_404_as_a_missing_ticket(client, ticket, alice):
    long_ago = timezone.now() - timedelta(days=100)
    services.resolve(ticket, by=alice, summary="Refunded.", now=long_ago)
    services.change_status(ticket, to="closed", by=alice, now=long_ago + timedelta(days=7))

    expired = client.get(status_url(ticket))
    missing = client.get(reverse("customers:status", args=["no-such-request-anywhere-at-all-1234"]))

    assert expired.status_code == 404 and page(expired) == page(missing)


def test_a_recently_closed_request_is_still_readable(client, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    services.change_status(ticket, to="closed", by=alice)

    assert client.get(status_url(ticket)).status_code == 200


@pytest.mark.parametrize(
    "name",
    ["Zoë Ōkubo-Nguyễn", "محمد الأحمد", "李小龙", "<script>alert('name')</script>"],
    ids=["accents", "arabic", "chinese", "script"],
)
def test_names_and_words_in_any_script_are_stored_as_typed_and_shown_inert(client, category, alice, name):
    data = request_data(category, name=name, subject="<img src=x onerror=alert(1)>", description="<b>bold</b> 😀")
    client.post("/", data)

    ticket = Ticket.objects.get()
    assert ticket.interactions.get().customer_name == name
    assert ticket.subject == "<img src=x onerror=alert(1)>"
    status_page = page(client.get(status_url(ticket)))
    assert "<img src=x" not in status_page and "&lt;img src=x onerror=alert(1)&gt;" in status_page
    assert "<b>bold</b>" not in status_page and "😀" in status_page
    client.force_login(alice)
    desk = page(client.get(reverse("desk:ticket", args=[ticket.reference])))
    assert "<script>alert('name')</script>" not in desk and "<img src=x" not in desk
