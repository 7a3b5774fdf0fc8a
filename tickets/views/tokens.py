"""Personal API tokens: each staff member creates, sees and revokes their own.

The secret is shown once, on the page that answers the creating POST (never stored, never in a URL, not
cached); afterwards only its first characters identify it.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.forms import QuickSelect
from tickets.api.access import TOKEN_LIFETIMES, issue_token, revoke_token
from tickets.models import ApiToken
from tickets.views.access import StaffRequest, staff_only

MAX_LIVE_TOKENS = 20  # enough for every integration a person runs; a bound on what a stolen session can mint


class TokenForm(forms.Form):
    name = forms.CharField(
        label="What is it for?",
        max_length=100,
        help_text="e.g. “CRM sync” or “phone system”: so you know which one to revoke later.",
        error_messages={"required": "Name the token after what will use it."},
    )
    lifetime = forms.ChoiceField(
        label="Expires",
        choices=TOKEN_LIFETIMES.items(),
        initial="90",
        widget=QuickSelect,
        error_messages={"invalid_choice": "Choose when the token expires."},
    )

    def days(self) -> int | None:
        lifetime = self.cleaned_data["lifetime"]
        return None if lifetime == "never" else int(lifetime)


@never_cache
@staff_only
@require_http_methods(["GET", "POST"])
def tokens(request: StaffRequest) -> HttpResponse:
    """The list of one's tokens with the form for a new one; a valid POST shows the new secret, once."""
    form = TokenForm(request.POST or None)
    secret = ""
    mine = ApiToken.objects.filter(user=request.user)
    now = timezone.now()
    if request.method == "POST" and form.is_valid():
        if mine.live(now).count() >= MAX_LIVE_TOKENS:
            form.add_error(None, f"You have {MAX_LIVE_TOKENS} tokens already: revoke one you no longer use first.")
        else:
            _, secret = issue_token(user=request.user, name=form.cleaned_data["name"], days=form.days(), now=now)
            form = TokenForm()
    tokens = [(token, token.is_usable_at(now)) for token in mine]
    context = {"form": form, "tokens": tokens, "secret": secret}
    return render(request, "desk/tokens.html", context, status=400 if form.errors else 200)


@staff_only
@require_POST
def revoke(request: StaffRequest, pk: int) -> HttpResponse:
    """Revoke one of one's own tokens (someone else's is a 404). Integrations using it stop at once."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if revoke_token(token):
        messages.success(request, f"Revoked “{token.name}”: anything using it can no longer reach the API.")
    return redirect("desk:tokens")
