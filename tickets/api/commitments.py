"""The reply check (``POST /api/v1/tickets/{reference}/reply-check/``): what a reply would promise before it is
sent, in the shape the view answers with. Recording one is the reply's ``promise`` (``serializers``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.api.fields import StrictSerializer
from tickets.api.fields import VerdictSerializer, verdict_json
from tickets.api.serializers import text
from tickets.commitments import Checked


class ReplyCheckSerializer(StrictSerializer):
    """A reply as it would be sent: the times it promises are read, nothing is sent or stored."""

    body = text("The reply, as it would be sent.")


class CommitmentSerializer(serializers.Serializer):
    """A time a reply commits to in words, on the customer's clock, with what the overpromise guard says of it."""

    phrase = serializers.CharField(
        source="commitment.phrase",
        help_text='The words that promise, as written ("by 3pm tomorrow"): send them as `promise` with the reply '
        "to record the promise.",
    )
    words = serializers.CharField(
        source="commitment.words", help_text="The sentence that holds them: the promise's words if it is recorded."
    )
    due_at = serializers.DateTimeField(source="commitment.due_at", help_text="When, read now.")
    due_at_local = serializers.SerializerMethodField(help_text="The same time on the customer's clock.")
    time_zone = serializers.CharField(
        source="zone.key", help_text="The customer's time zone (the site's when theirs is not on record)."
    )
    verdict = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_due_at_local(self, check: Checked) -> str:
        return serializers.DateTimeField(default_timezone=check.zone).to_representation(check.commitment.due_at)

    @extend_schema_field(VerdictSerializer)
    def get_verdict(self, check: Checked) -> dict[str, Any]:
        return verdict_json(check.verdict)


class ReplyCheckResult(serializers.Serializer):
    commitments = CommitmentSerializer(many=True, help_text="In the order the reply says them; none: no promise.")
