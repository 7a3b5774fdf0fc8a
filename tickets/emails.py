"""An email rendered from its three templates in templates/emails/: ``<name>-subject.txt``,
``<name>-body.txt`` and ``<name>-body.html``; the one way customer emails and staff notifications are written.

Subjects and plain-text bodies are not HTML, so they are rendered by the ``email_text`` template engine
(see settings.TEMPLATES), which does not escape: a customer called O'Neil is greeted as O'Neil, not
O&#x27;Neil. Only the HTML body goes through the site's engine, which escapes whatever people typed. A
subject is collapsed to one line, so a line break typed into a name or a subject cannot start a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template import engines
from django.template.loader import render_to_string

TEXT_ENGINE = "email_text"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render ``emails/<name>-*``: subject and text unescaped (the subject on one line), HTML escaped."""
    text = engines[TEXT_ENGINE]
    return RenderedEmail(
        subject=" ".join(text.get_template(f"emails/{name}-subject.txt").render(context).split()),
        text=text.get_template(f"emails/{name}-body.txt").render(context),
        html=render_to_string(f"emails/{name}-body.html", context),
    )
