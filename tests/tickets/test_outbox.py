"""The outbox sends one email at a time: each claimed, sent and marked in steps of its own, so a worker that dies
mid-drain leaves behind at most the email it was sending. That one is in doubt: counted, named in a warning,
sent once more with the same Message-ID, and given up for a person if it comes into doubt again."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from tests.factories import UserFactory
from tickets import customer_emails, notifications, outbox, services, tasks
from tickets.models import CustomerEmail, EmailState, Notification
from tickets.outbox import Drained

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """As near as a test comes to SIGKILL: the drain stops between two statements, nothing after runs."""


@pytest.fixture
def five_emails(ticket, alice):
    """The confirmation of Dave's request and four replies, waiting in the outbox."""
    for n in range(4):
        services.reply(ticket, by=alice, body=f"Update {n}.")
    return CustomerEmail.objects.filter(ticket=ticket).order_by("id")


def message_ids(mailoutbox) -> list[str]:
    return [email.extra_headers["Message-ID"] for email in mailoutbox]


def left_sending(row: CustomerEmail, *, since, times_in_doubt: int = 0) -> None:
    """As a drain that died after claiming ``row`` leaves it."""
    CustomerEmail.objects.filter(pk=row.pk).update(
        email_state=EmailState.SENDING, sending_since=since, email_attempts=1, times_in_doubt=times_in_doubt
    )


def test_each_email_is_claimed_before_it_is_sent_and_marked_sent_after(five_emails, monkeypatch):
    now, seen = timezone.now(), []

    def send(self, fail_silently=False):
        row = CustomerEmail.objects.get(pk=self.extra_headers["Message-ID"].split("@")[0].rsplit("-", 1)[1])
        seen.append((row.email_state, row.sending_since, row.email_attempts))
        return 1

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", send)

    assert customer_emails.send_pending(now=now) == Drained(sent=5)
    assert seen == [(EmailState.SENDING, now, 1)] * 5  # the attempt is counted at the claim
    assert set(five_emails.values_list("email_state", "sending_since", "emailed_at", "email_attempts")) == {
        (EmailState.SENT, None, now, 1)
    }


def test_a_worker_killed_mid_drain_leaves_only_the_email_it_was_sending(five_emails, monkeypatch, mailoutbox):
    """What the drain had marked stays marked: only the email in flight is left over, to go once more in doubt."""
    real_send, sends = mail.EmailMultiAlternatives.send, []

    def killed_on_the_third(self, fail_silently=False):
        sends.append(self.extra_headers["Message-ID"])
        if len(sends) == 3:
            raise WorkerKilled
        return real_send(self, fail_silently)

    now = timezone.now()
    with monkeypatch.context() as patch:
        patch.setattr(mail.EmailMultiAlternatives, "send", killed_on_the_third)
        with pytest.raises(WorkerKilled):
            customer_emails.send_pending(now=now)

    assert [row.email_state for row in five_emails] == ["sent", "sent", "sending", "pending", "pending"]
    # The next drain sends the rest, not the one in flight: its drain may still be alive.
    assert customer_emails.send_pending(now=now + timedelta(seconds=1)) == Drained(sent=2)
    # Once no drain can hold it, it is in doubt: sent once more.
    later = now + outbox.in_doubt_after() + timedelta(seconds=1)
    assert customer_emails.send_pending(now=later) == Drained(sent=1, in_doubt=1)
    # The two sent before the kill stayed sent: each email reached the server once (the third died before it).
    assert sorted(message_ids(mailoutbox)) == sorted(outbox.message_id("customer-email", r.pk) for r in five_emails)
    third = five_emails[2]
    third.refresh_from_db()
    assert (third.email_state, third.times_in_doubt, third.email_attempts) == ("sent", 1, 2)


def test_a_crash_between_sending_and_marking_is_in_doubt_counted_named_and_sent_once_more(
    five_emails, monkeypatch, mailoutbox, caplog
):
    first = five_emails[0]
    real_settle = outbox.settle

    def killed_before_marking_the_first(row, **changes):
        if row.pk == first.pk and row.times_in_doubt == 0:
            raise WorkerKilled
        return real_settle(row, **changes)

    monkeypatch.setattr(outbox, "settle", killed_before_marking_the_first)
    now = timezone.now()
    with pytest.raises(WorkerKilled):
        customer_emails.send_pending(now=now)
    assert customer_emails.send_pending(now=now + timedelta(seconds=30)) == Drained(sent=4)

    later = now + outbox.in_doubt_after() + timedelta(seconds=1)
    assert customer_emails.send_pending(now=later) == Drained(sent=1, in_doubt=1)

    first_id = outbox.message_id("customer-email", first.pk)
    assert Counter(message_ids(mailoutbox))[first_id] == 2  # the same Message-ID: a recognisable repeat
    assert len(mailoutbox) == 6
    first.refresh_from_db()
    assert (first.email_state, first.times_in_doubt, first.email_attempts) == ("sent", 1, 2)
    [warning] = [record for record in caplog.records if "in doubt" in record.getMessage()]
    assert (
        warning.levelname == "WARNING"
        and f"customeremail {first.pk} in doubt (times in doubt: 1)" in warning.getMessage()
    )


def test_an_email_still_within_its_drains_time_is_never_taken_over(five_emails, mailoutbox):
    now = timezone.now()
    five_emails.exclude(pk=five_emails[0].pk).update(email_state=EmailState.SENT)
    left_sending(five_emails[0], since=now - outbox.in_doubt_after() + timedelta(seconds=1))

    assert customer_emails.send_pending(now=now) == Drained()
    assert mailoutbox == []


def test_an_email_in_doubt_a_second_time_is_given_up_for_a_person_to_decide(five_emails, mailoutbox, caplog):
    now = timezone.now()
    row = five_emails[0]
    five_emails.exclude(pk=row.pk).update(email_state=EmailState.SENT)
    left_sending(row, since=now - outbox.in_doubt_after() - timedelta(seconds=1), times_in_doubt=1)

    assert customer_emails.send_pending(now=now) == Drained(in_doubt=1, given_up=1)
    assert mailoutbox == []
    row.refresh_from_db()
    assert (row.email_state, row.times_in_doubt, row.sending_since) == ("given_up", 2, None)
    assert any("given up: a person decides" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert customer_emails.send_pending(now=now + timedelta(days=1)) == Drained()  # never again by itself


def test_a_person_may_send_a_given_up_email_again_once(five_emails, mailoutbox):
    now = timezone.now()
    row = five_emails[0]
    five_emails.exclude(pk=row.pk).update(email_state=EmailState.SENT)
    CustomerEmail.objects.filter(pk=row.pk).update(
        email_state=EmailState.GIVEN_UP, email_attempts=outbox.MAX_ATTEMPTS, times_in_doubt=2
    )

    assert outbox.send_again(CustomerEmail.objects.all()) == 1  # only the given-up row moves
    assert customer_emails.send_pending(now=now) == Drained(sent=1)
    row.refresh_from_db()
    assert (row.email_state, row.email_attempts, row.times_in_doubt) == ("sent", 1, 2)

    # Sent again by a person and in doubt once more: given up at once, not sent a third time.
    CustomerEmail.objects.filter(pk=row.pk).update(email_state=EmailState.GIVEN_UP, emailed_at=None)
    outbox.send_again(CustomerEmail.objects.all())
    left_sending(row, since=now - outbox.in_doubt_after() - timedelta(seconds=1), times_in_doubt=2)
    assert customer_emails.send_pending(now=now) == Drained(in_doubt=1, given_up=1)
    assert len(mailoutbox) == 1


def test_the_admin_lists_given_up_and_doubted_emails_and_sends_them_again(five_emails, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    given_up, doubted, *_ = five_emails
    CustomerEmail.objects.filter(pk=given_up.pk).update(email_state=EmailState.GIVEN_UP, email_attempts=30)
    CustomerEmail.objects.filter(pk=doubted.pk).update(email_state=EmailState.SENT, times_in_doubt=1)
    page = "/admin/tickets/customeremail/"

    listed = client.get(page, {"email_state__exact": "given_up"}).context["cl"].result_list
    assert [row.pk for row in listed] == [given_up.pk]
    assert [row.pk for row in client.get(page, {"in_doubt": "yes"}).context["cl"].result_list] == [doubted.pk]

    everything = list(five_emails.values_list("pk", flat=True))
    response = client.post(page, {"action": "send_again", "_selected_action": everything}, follow=True)
    assert "1 given-up email will be sent again." in response.content.decode()
    assert Counter(five_emails.values_list("email_state", flat=True)) == {"pending": 4, "sent": 1}
    assert client.get("/admin/tickets/notification/", {"email_state__exact": "given_up"}).status_code == 200


def test_the_drain_stops_taking_emails_when_its_time_is_spent_and_the_task_queues_another(
    five_emails, monkeypatch, settings, mailoutbox
):
    """A slow mail server (2 s an email here) meets the drain's budget, never the task's time limit."""
    settings.OUTBOX_DRAIN_SECONDS = 5
    clock, real_send, queued = [0.0], mail.EmailMultiAlternatives.send, []

    def slow_send(self, fail_silently=False):
        clock[0] += 2
        return real_send(self, fail_silently)

    monkeypatch.setattr(outbox, "monotonic", lambda: clock[0])
    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", slow_send)
    monkeypatch.setattr(tasks.send_customer_emails, "delay", lambda: queued.append(1))

    assert tasks.send_customer_emails() == Drained(sent=3, more=True).as_dict()  # claimed at 0, 2 and 4 s
    assert queued == [1]
    assert tasks.send_customer_emails() == Drained(sent=2).as_dict()  # the queued drain finishes
    assert queued == [1] and len(mailoutbox) == 5


def test_a_full_batch_queues_another_drain(five_emails):
    assert customer_emails.send_pending(now=timezone.now(), limit=2) == Drained(sent=2, more=True)


def test_a_drain_started_while_another_is_sending_takes_the_next_email(five_emails, monkeypatch, mailoutbox):
    real_send, now, nested = mail.EmailMultiAlternatives.send, timezone.now(), []

    def send_while_another_drain_runs(self, fail_silently=False):
        if not nested:  # the first send only: meanwhile, a second drain runs (a redelivered task, say)
            nested.append(None)
            nested[0] = customer_emails.send_pending(now=now)
        return real_send(self, fail_silently)

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", send_while_another_drain_runs)

    assert customer_emails.send_pending(now=now) == Drained(sent=1)
    assert nested == [Drained(sent=4)]
    assert sorted(message_ids(mailoutbox)) == sorted(outbox.message_id("customer-email", r.pk) for r in five_emails)


def test_the_task_delivered_twice_sends_nothing_twice(five_emails, mailoutbox):
    tasks.send_customer_emails()
    tasks.send_customer_emails()

    assert len(mailoutbox) == 5 == len(set(message_ids(mailoutbox)))


def test_the_tasks_read_the_databases_clock(five_emails, escalated_to_bob, monkeypatch):
    database_time = timezone.now() + timedelta(minutes=5)  # a worker whose own clock runs five minutes slow
    monkeypatch.setattr(tasks, "database_now", lambda: database_time)

    tasks.send_customer_emails()
    tasks.send_notification_emails()

    assert set(five_emails.values_list("emailed_at", flat=True)) == {database_time}
    assert Notification.objects.get().emailed_at == database_time


@pytest.fixture
def escalated_to_bob(ticket, alice, bob):
    services.escalate(ticket, by=alice, note="Gateway refuses the refund.")


def test_a_drain_costs_five_queries_an_email_whatever_their_number(
    ticket, alice, bob, carol, django_assert_num_queries, mailoutbox
):
    now = timezone.now()
    people = [alice.pk, bob.pk, carol.pk]
    notifications.notify(people, ticket=ticket, event="at_risk", key="promise=1", message="Due soon", now=now)

    # Each email: SAVEPOINT, SELECT ... FOR UPDATE SKIP LOCKED (the row, its recipient, ticket and customer),
    # the claim's UPDATE, RELEASE SAVEPOINT, the mark's UPDATE; then the claim that finds none left (3). Outside
    # a test's transaction the savepoints are a BEGIN and a COMMIT.
    with django_assert_num_queries(5 * 3 + 3):
        assert notifications.send_pending(now=now) == Drained(sent=3)
    assert sorted(email.to[0] for email in mailoutbox) == sorted(
        ["alice@staff.example.com", "bob@staff.example.com", "carol@staff.example.com"]
    )


@pytest.mark.django_db(transaction=True)
def test_two_drains_at_once_send_each_email_once(ticket, alice, monkeypatch):
    """Two workers' drains in two threads, each on its own database connection, on the real PostgreSQL."""
    monkeypatch.setattr(tasks.send_customer_emails, "delay", lambda: None)  # this test runs the drains itself
    for n in range(19):
        services.reply(ticket, by=alice, body=f"Update {n}.")
    sent, lock, start = [], threading.Lock(), threading.Barrier(2)

    def slow_send(self, fail_silently=False):
        time.sleep(0.01)
        with lock:
            sent.append(self.extra_headers["Message-ID"])
        return 1

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", slow_send)
    results = []

    def drain() -> None:
        try:
            start.wait()
            results.append(customer_emails.send_pending(now=timezone.now()))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(sent) == 20 == len(set(sent))
    assert sorted(result.sent for result in results) != [0, 20]  # both took a share: they really ran at once
    assert not CustomerEmail.objects.exclude(email_state=EmailState.SENT).exists()


@pytest.mark.django_db(transaction=True)
def test_a_database_connection_cut_between_sending_and_marking_is_marked_on_a_new_one(
    ticket, monkeypatch, mailoutbox, caplog
):
    """A database restart or failover while the worker lives: the row is marked sent, not left to be in doubt."""
    real_send = mail.EmailMultiAlternatives.send

    def send_then_lose_the_database(self, fail_silently=False):
        sent = real_send(self, fail_silently)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            [(drain_pid,)] = cursor.fetchall()
        cut = threading.Thread(target=terminate, args=[drain_pid])
        cut.start()
        cut.join()
        return sent

    def terminate(pid: int) -> None:
        try:
            with connection.cursor() as cursor:  # this thread's own connection
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        finally:
            connection.close()

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", send_then_lose_the_database)

    assert customer_emails.send_pending(now=timezone.now()) == Drained(sent=1)
    assert list(CustomerEmail.objects.values_list("email_state", "times_in_doubt")) == [("sent", 0)]
    assert len(mailoutbox) == 1
    assert any(record.getMessage().startswith("Lost the database while marking") for record in caplog.records)
