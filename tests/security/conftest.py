"""Personas for the multi-user tests: alice owns, bob and carol are other users, staff is a non-superuser."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made in most tests here; the production hasher would spend ~0.4 s on each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def api_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="carol-pass-123")


@pytest.fixture
def alice_api(alice):
    return api_client(alice)


@pytest.fixture
def bob_api(bob):
    return api_client(bob)


@pytest.fixture
def instance(paper_account, eurusd):
    from tests.support.builders import make_instance

    return make_instance(paper_account, eurusd)


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the property-based API run's counts (operations, cases, 5xx) for CI logs."""
    import sys

    module = sys.modules.get("tests.security.test_api_property_based") or sys.modules.get(
        "security.test_api_property_based"
    )
    if module is not None:
        for line in module.pytest_terminal_summary_lines():
            terminalreporter.write_line(line)
