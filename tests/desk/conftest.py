"""The desk's world: Dave's ticket in Billing (alice's team), and a client signed in as anyone."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client


@pytest.fixture
def client_for(db) -> Callable[[User | None], Client]:
    """``client_for(alice)``: a browser signed in as alice; ``client_for(None)``: an anonymous one."""

    def sign_in(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in
