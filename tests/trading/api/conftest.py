from __future__ import annotations

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def alice_api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def bob_api(bob):
    client = APIClient()
    client.force_authenticate(bob)
    return client


@pytest.fixture
def instance(paper_account, eurusd):
    from tests.support.builders import make_instance

    return make_instance(paper_account, eurusd)
