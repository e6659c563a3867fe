"""Property-based API testing: schemathesis generates requests for every operation of /api/schema/ and sends them
as an authenticated, non-staff user through the real WSGI application (real PostgreSQL, each request its own
transaction), checking that none is answered with a 5xx and that every answer matches the schema (status code
documented, content type, body).

Bounded for CI (about a minute): the coverage phase (boundary values of each parameter, valid shapes) and
ASIRIKUY_API_FUZZ_EXAMPLES (20) fuzzed examples per operation, valid and invalid, derandomised, no deadline.
ASIRIKUY_API_FUZZ_COVERAGE=all adds the coverage phase's invalid shapes (several times the cases), =off drops it.
Throttling is off for the run (its 429 is documented, but would cut the run short). The counts (operations,
cases, answers by class, 5xx) are printed at the end of the session.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

EXAMPLES = int(os.environ.get("ASIRIKUY_API_FUZZ_EXAMPLES", "20"))
COVERAGE = os.environ.get("ASIRIKUY_API_FUZZ_COVERAGE", "positive")  # positive | all | off
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
COUNTS: Counter[str] = Counter()
OPERATIONS: set[str] = set()


@pytest.fixture
def world(transactional_db):
    """Real commits: each request is its own transaction, as in production (a database error in one request
    must not poison the next, as it would inside one test transaction)."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from tests.support.builders import make_execution, make_instance, make_order, make_trade
    from trading.models import BrokerAccount, Instrument

    user = get_user_model().objects.create_user("fuzz", password="fuzz-pass-4821")
    eurusd = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=100000,
        margin_rate="0.02",
        spread_points=10,
    )
    account = BrokerAccount.objects.create(owner=user, name="Fuzz paper", broker="paper", currency="USD")
    instance = make_instance(account, eurusd)
    make_execution(instance)
    make_order(account, eurusd, instance, trade=make_trade(account, eurusd, instance))
    return Token.objects.create(user=user).key


@pytest.fixture
def api_schema(world):
    from django.core.wsgi import get_wsgi_application

    # Coverage phase: boundary values of every parameter (huge, empty, wrong type), valid shapes only by
    # default (the invalid ones are the fuzzing phase's job); ASIRIKUY_API_FUZZ_COVERAGE=all adds them.
    coverage = {"enabled": COVERAGE != "off", "generation": {"mode": "all" if COVERAGE == "all" else "positive"}}
    config = SchemathesisConfig.from_dict({"phases": {"coverage": coverage}})
    return schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)


@pytest.fixture(autouse=True)
def _no_throttle_no_network(settings):
    settings.API_THROTTLE_USER = ""
    # An OANDA account check must fail at once (nothing listens on port 9), never wait on the internet.
    settings.OANDA_PRACTICE_URL = settings.OANDA_LIVE_URL = "http://127.0.0.1:9"


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None
)
def test_every_operation_answers_without_5xx_and_as_documented(case, world):
    response = case.call(headers={"Authorization": f"Token {world}"})
    OPERATIONS.add(case.operation.label)
    COUNTS["cases"] += 1
    COUNTS[f"{response.status_code // 100}xx"] += 1
    case.validate_response(response, checks=CHECKS)


def pytest_terminal_summary_lines() -> list[str]:
    if not COUNTS:
        return []
    statuses = ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items()) if k != "cases")
    return [
        f"API property-based run: {len(OPERATIONS)} operations, {COUNTS['cases']} cases ({statuses}); 5xx={COUNTS['5xx']}"
    ]
