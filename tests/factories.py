"""factory_boy factories. Tickets are opened through the services, like every real ticket."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from customers.models import Customer
from tickets import services
from tickets.estimates.models import EstimateBasis
from tickets.models import Category, EscalationLevel, EscalationPath, Estimate, Priority, Role, Team, Ticket

User = get_user_model()


PASSWORD = "correct horse battery staple"  # every factory-made user's, for tests that sign in by form


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@staff.example.com")
    password = factory.django.Password(PASSWORD)


class StaffFactory(UserFactory):
    """A staff member in a role group (Agents by default) and, optionally, teams."""

    is_staff = True

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create:
            self.groups.add(Group.objects.get_or_create(name=extracted or Role.AGENTS)[0])

    @factory.post_generation
    def teams(self, create: bool, extracted: list[Team] | None, **kwargs: object) -> None:
        if create and extracted:
            for team in extracted:
                team.members.add(self)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class EscalationPathFactory(factory.django.DjangoModelFactory):
    """A path whose levels are the given teams, in order: ``EscalationPathFactory(teams=[t1, t2])``."""

    class Meta:
        model = EscalationPath
        django_get_or_create = ("name",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Path {n}")

    @factory.post_generation
    def teams(self, create: bool, extracted: list[Team] | None, **kwargs: object) -> None:
        if create:
            for position, team in enumerate(extracted or [TeamFactory()], start=1):
                EscalationLevel.objects.get_or_create(
                    path=self, position=position, defaults={"name": f"Level {position}", "team": team}
                )


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.LazyAttribute(lambda category: category.name.lower().replace(" ", "-"))
    escalation_path = factory.SubFactory(EscalationPathFactory)
    default_target = timedelta(hours=4)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")


class TicketFactory(factory.Factory):
    """Opens a ticket through ``services.open_ticket``; pass ``customer=`` to reuse a customer."""

    class Meta:
        model = Ticket

    customer = factory.SubFactory(CustomerFactory)
    category = factory.SubFactory(CategoryFactory)
    subject = factory.Sequence(lambda n: f"Request {n}")
    body = "Something is not working and I need help."

    @classmethod
    def _create(cls, model_class: type[Ticket], *, customer: Customer, **kwargs: object) -> Ticket:
        return services.open_ticket(name=customer.name, email=customer.email, **kwargs)  # type: ignore[arg-type]


def history_says(
    category: Category,
    remaining: timedelta,
    *,
    priority: int | None = None,
    seen: int = 12,
    basis: str = EstimateBasis.CATEGORY,
) -> list[Estimate]:
    """Estimates as a refresh would write them: ``remaining`` still to run at every age, from ``seen``
    tickets, for one priority or (None) every priority of the category."""
    from django.utils import timezone

    seconds = round(remaining.total_seconds())
    return [
        Estimate.objects.create(
            category=category,
            priority=level,
            basis=basis,
            curve=[[0, seconds, seen], [86400, seconds, seen]],
            duration=remaining,
            sample_size=seen,
            window_days=28,
            percentile=0.8,
            computed_at=timezone.now(),
        )
        for level in ([priority] if priority is not None else Priority.values)
    ]
