"""``manage.py seed_demo``: a realistic demo desk, safe to run again, whose printed logins work."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client
from django.utils import timezone

from customers.models import Customer
from tickets import demo, services
from tickets.demo import world
from tickets.models import (
    AROUND_THE_CLOCK,
    Calendar,
    Category,
    Channel,
    EscalationLevel,
    EscalationPath,
    Estimate,
    Interaction,
    Promise,
    Role,
    Team,
    Ticket,
    TicketStatus,
)
from tickets.sweep import sweep

User = get_user_model()

pytestmark = pytest.mark.django_db

COUNTED = (Customer, Team, EscalationPath, EscalationLevel, Category, Ticket, Interaction, User)


def signs_in(username: str, password: str) -> bool:
    """Through the sign-in page, as a person would (the lockout needs the request, so not Client.login)."""
    response = Client().post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def seed_demo() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def output() -> str:
    return seed_demo()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def printed_logins(output: str) -> dict[str, str]:
    """Username → password, read from the logins table the command prints (first and last column)."""
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["username"])
    rows = [line.split() for line in lines[header + 1 :] if line.strip()]
    return {row[0]: row[-1] for row in rows}


def demo_users(role: demo.StaffRole) -> list[demo.DemoUser]:
    return [spec for spec in demo.DEMO_USERS if spec.role == role]


# --- Running it again ----------------------------------------------------------------------------


def test_running_twice_gives_the_same_rows_and_tickets(output):
    # given
    counts = row_counts()
    subjects = Counter(Ticket.objects.values_list("subject", flat=True))
    # when
    seed_demo()
    # then
    assert row_counts() == counts
    assert Counter(Ticket.objects.values_list("subject", flat=True)) == subjects
    assert not Customer.objects.values("email").annotate(n=Count("id")).filter(n__gt=1).exists()


def test_second_run_leaves_a_ticket_changed_after_seeding_untouched(output):
    # given: an agent moves an open demo ticket on, and someone edits its customer
    ticket = Ticket.objects.filter(status=TicketStatus.OPEN).order_by("id").first()
    agent = ticket.assignee or ticket.team.members.first()
    services.change_status(ticket, to=TicketStatus.WAITING, by=agent, note="Asked for the order number.")
    ticket.refresh_from_db()
    Customer.objects.filter(pk=ticket.customer_id).update(organisation="Renamed Ltd", name="Changed Name")
    interactions = list(ticket.interactions.values_list("id", flat=True))
    # when
    seed_demo()
    # then
    after = Ticket.objects.get(pk=ticket.pk)
    assert (after.status, after.updated_at, after.last_activity_at) == (
        TicketStatus.WAITING,
        ticket.updated_at,
        ticket.last_activity_at,
    )
    assert list(after.interactions.values_list("id", flat=True)) == interactions
    customer = Customer.objects.get(pk=ticket.customer_id)
    assert (customer.name, customer.organisation) == ("Changed Name", "Renamed Ltd")


def test_second_run_makes_a_changed_demo_password_work_again(output):
    # given
    agent = User.objects.get(username=demo_users(demo.StaffRole.AGENT)[0].username)
    agent.set_password("something-else")
    agent.save(update_fields=["password"])
    # when
    output = seed_demo()
    # then
    assert signs_in(agent.username, printed_logins(output)[agent.username])


def test_seed_refuses_to_run_in_production(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed_demo()
    assert not User.objects.exists()


# --- The shape of the demo ----------------------------------------------------------------------


def test_demo_has_three_teams_and_a_two_and_a_three_level_path(output):
    assert Team.objects.count() == 3
    levels = {path.name: list(path.levels.values_list("position", flat=True)) for path in EscalationPath.objects.all()}
    assert sorted(levels.values()) == [[1, 2], [1, 2, 3]]


def test_demo_offers_an_office_calendar_that_no_team_works_to_yet(output):
    office = Calendar.objects.get(name="Tillwise office hours")
    assert (office.time_zone, office.country, office.subdivision) == ("Europe/London", "GB", "ENG")
    assert office.in_words() == "Monday to Thursday, 9 to 17:30; Friday, 9 to 17, London time"
    assert not office.teams.exists()  # the demo's promises run around the clock until a supervisor says otherwise
    assert Team.objects.filter(calendar__name=AROUND_THE_CLOCK).count() == 3


def test_demo_has_five_categories_with_a_path_and_a_target(output):
    categories = Category.objects.all()
    assert len(categories) == 5
    for category in categories:
        assert EscalationLevel.objects.first_of(category.escalation_path_id) is not None
        assert category.default_target > timedelta(0)
        assert category.description


def test_demo_has_about_forty_customers_with_tickets_in_every_status(output):
    assert Customer.objects.count() >= 35
    assert not Customer.objects.filter(tickets__isnull=True).exists()
    assert set(Ticket.objects.values_list("status", flat=True)) == set(TicketStatus.values)


def test_demo_has_a_repeat_customer_and_a_phone_ticket(output):
    assert Customer.objects.annotate(n=Count("tickets")).filter(n__gte=3).exists()
    assert Ticket.objects.filter(channel=Channel.PHONE).exists()


def test_demo_conversations_happened_in_the_last_sixty_days_in_order(output):
    now = timezone.now()
    for ticket in Ticket.objects.prefetch_related("interactions"):
        assert now - timedelta(days=61) < ticket.created_at < now - timedelta(minutes=55), ticket
        moments = [interaction.created_at for interaction in sorted(ticket.interactions.all(), key=lambda i: i.pk)]
        assert moments[0] == ticket.created_at
        assert moments == sorted(moments), ticket
        assert moments[-1] < now, ticket


def test_demo_staff_have_their_roles_and_teams(output):
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    agents = [User.objects.get(username=spec.username) for spec in demo_users(demo.StaffRole.AGENT)]
    assert len(agents) == 3  # one per team, so every escalation level has someone to take it
    for agent in agents:
        assert agent.is_staff and agent.first_name and agent.last_name
        assert agent.groups.filter(name=Role.AGENTS).exists()
    agent_teams = [set(agent.teams.values_list("name", flat=True)) for agent in agents]
    assert all(len(teams) == 1 for teams in agent_teams)
    assert set.union(*agent_teams) == {"Front Desk", "Billing", "Technical"}
    (supervisor,) = demo_users(demo.StaffRole.SUPERVISOR)
    supervisor = User.objects.get(username=supervisor.username)
    assert supervisor.is_staff and supervisor.groups.filter(name=Role.SUPERVISORS).exists()


# --- What it prints -----------------------------------------------------------------------------


def test_output_lists_every_login_with_its_password_and_where_to_sign_in(output):
    assert printed_logins(output) == {spec.username: spec.password for spec in demo.DEMO_USERS}
    assert "/accounts/login/" in output
    assert "tickets" in output and "customers" in output


def test_demo_agents_can_sign_in_with_the_printed_passwords(output):
    logins = printed_logins(output)
    for spec in demo_users(demo.StaffRole.AGENT):
        assert signs_in(spec.username, logins[spec.username])


def test_demo_promises_go_at_risk_and_breach_by_themselves_soon_after_seeding(output):
    now = timezone.now()
    open_promised = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES, promise_state="on_track")
    assert open_promised.filter(promise_due_at__lt=now).exists()  # one lapses at the first sweep
    assert open_promised.filter(promise_warn_at__gt=now, promise_warn_at__lt=now + timedelta(minutes=15)).exists()
    assert open_promised.filter(promise_due_at__gt=now, promise_due_at__lt=now + timedelta(minutes=30)).exists()

    first = sweep(now=now)
    assert first.at_risk >= 2 and first.breached >= 1
    assert Ticket.objects.filter(promise_state="breached", escalation_level__position=2).exists()
    later = sweep(now=now + timedelta(minutes=30))
    assert later.at_risk >= 1 and later.breached >= 1


def test_demo_history_holds_kept_and_broken_promises_and_the_guard_has_estimates(output):
    assert Promise.objects.filter(outcome="kept").exists() and Promise.objects.filter(outcome="broken").exists()
    assert Promise.objects.filter(overrode_estimate=True).exclude(override_reason="").exists()
    assert Estimate.objects.values("category").distinct().count() == 5  # a curve for every demo category


def test_demo_history_gives_the_supervisor_figures_a_story(output):
    from zoneinfo import ZoneInfo

    from tickets.supervision.figures import Period, report

    figures = report(Period.last(60, now=timezone.now()), zone=ZoneInfo("UTC"))
    agents = {row.name.split()[0]: row for row in figures.agents}
    agents_in_teams = ("Priya", "Tom", "Samuel")

    assert len(figures.weeks) >= 8  # a weekly chart with a line, not a dot
    assert agents["Priya"].kept_rate < agents["Tom"].kept_rate  # the overpromiser and the careful one
    assert agents["Priya"].sooner > 0 and agents["Priya"].actual_seconds > agents["Priya"].promised_seconds
    assert all(agents[name].made and agents[name].rating for name in agents_in_teams)
    assert agents["Priya"].first_response and agents["Tom"].first_response  # Samuel takes them second
    assert figures.total.changed > 0


# --- The world file ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9d", timedelta(days=9)), ("2h20m", timedelta(hours=2, minutes=20)), ("1d30s", timedelta(days=1, seconds=30))],
)
def test_world_durations_read_as_days_hours_minutes_seconds(text, expected):
    assert world.duration(text) == expected


@pytest.mark.parametrize("text", ["", "2 hours", "20m2h", "1.5h", "h"])
def test_world_refuses_a_duration_it_cannot_read(text):
    with pytest.raises(ValueError, match="is not a duration such as 1d2h30m"):
        world.duration(text)


@pytest.mark.parametrize("step", [{"text": "No action."}, {"reply": "1h", "note": "2h"}])
def test_world_step_names_exactly_one_action(step):
    with pytest.raises(ValueError, match="A step names one action"):
        world._step(step)


def test_world_steps_read_with_their_delay_length_text_and_author():
    step = world._step({"call": "5m", "length": "12m", "text": "Walked her through it.", "by": "sam"})
    assert (step.action, step.after, step.call_length, step.text, step.by) == (
        "call",
        timedelta(minutes=5),
        timedelta(minutes=12),
        "Walked her through it.",
        "sam",
    )
