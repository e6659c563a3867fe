"""Structured logs: the context ids in every line (plain and JSON), carried across a task hand-off; no secret."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from celery import shared_task

from ops.logs import log_context, log_context_bound, log_context_set, logging_config, secret_register
from ops.signals import HEADER, _before_publish, _task_postrun, _task_prerun


@pytest.fixture
def log_stream():
    """The root logger configured exactly as the settings configure it, writing to a buffer."""
    stream = io.StringIO()

    def configure(json_lines: bool) -> io.StringIO:
        config = logging_config(level="INFO", json_lines=json_lines)
        config["handlers"]["console"]["stream"] = stream
        logging.config.dictConfig(config)
        return stream

    yield configure
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def test_json_lines_carry_the_context_ids(log_stream):
    stream = log_stream(json_lines=True)
    with log_context_bound(account=3, bar="2026-01-05T10:00:00+00:00", run="abc"):
        log_context_set(instance=42, order=7)
        logging.getLogger("trading.services.orders.dispatch").warning("order %s: late", 7)

    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert line["message"] == "order 7: late"
    assert line["level"] == "WARNING"
    assert line["logger"] == "trading.services.orders.dispatch"
    assert (line["account"], line["instance"], line["order"], line["run"]) == (3, 42, 7, "abc")
    assert line["bar"] == "2026-01-05T10:00:00+00:00"
    assert log_context() == {}


def test_plain_lines_carry_the_context_ids(log_stream):
    stream = log_stream(json_lines=False)
    with log_context_bound(account=3, timeframe=60):
        logging.getLogger("x").info("hello")

    assert "INFO x [account=3 timeframe=60]: hello" in stream.getvalue()


def test_secrets_are_removed_from_messages_arguments_and_tracebacks(log_stream):
    stream = log_stream(json_lines=True)
    token = "3f1b9c0e2d7a4b6c8e0f1a2b3c4d5e6f-a1b2c3d4e5f60718293a4b5c6d7e8f90"
    secret_register(token)
    logger = logging.getLogger("y")

    logger.warning("request failed with token %s", token)
    logger.warning("GET https://api/v3 headers={'Authorization': 'Bearer %s'}", "anothersecretvalue123")
    logger.warning("sending to mailtos://bob:hunter2hunter2@smtp.example.com/?to=me")
    logger.warning("calling json://hook.example.com/x?token=abcdefghijkl&other=1")
    try:
        raise RuntimeError(f"could not use {token}")
    except RuntimeError:
        logger.exception("boom")

    out = stream.getvalue()
    for secret in (token, "anothersecretvalue123", "hunter2hunter2", "abcdefghijkl"):
        assert secret not in out
    assert out.count("[secret]") >= 5
    assert "RuntimeError" in out  # the traceback is still there, without the secret


@shared_task(name="tests.ops.context_probe")
def context_probe(account_id: int, timeframe: int) -> dict:
    return log_context()


def test_the_senders_context_reaches_the_task_it_enqueues():
    """What a bar close sends (orders_dispatch on broker_io) logs the bar close's run id and bar."""
    headers: dict = {}
    with log_context_bound(run="bar-close-task-id", account=5, bar="2026-01-05T10:00:00+00:00", task="parent"):
        _before_publish(headers=headers)
    assert headers[HEADER] == {"run": "bar-close-task-id", "account": 5, "bar": "2026-01-05T10:00:00+00:00"}

    context_probe.push_request(**{HEADER: headers[HEADER]})
    try:
        _task_prerun(task_id="child-id", task=context_probe, args=(5, 60), kwargs={})
        inside = log_context()
        _task_postrun(task_id="child-id", task=context_probe, args=(5, 60), kwargs={}, state="SUCCESS")
    finally:
        context_probe.pop_request()

    assert inside["run"] == "bar-close-task-id"  # the root of the chain, not the child's own id
    assert inside["bar"] == "2026-01-05T10:00:00+00:00"
    assert (inside["account"], inside["timeframe"], inside["task"]) == (5, 60, "tests.ops.context_probe")
    assert log_context() == {}


def test_a_failing_channel_logs_no_part_of_its_url_that_could_be_a_secret(db, alice, log_stream):
    from ops_support import closed_port_url

    from ops.notify.channels import channel_create, channel_test

    stream = log_stream(json_lines=False)
    url = closed_port_url("/hooks/webhooksecret1234?apikey=abcdefghijklmn").replace("http://", "json://")
    channel = channel_create(owner=alice, name="hook", url=url)
    logging.getLogger("apprise").setLevel(logging.DEBUG)  # apprise's own lines too, URL details and all

    note = channel_test(channel)

    out = stream.getvalue()
    assert note.status == "failed"
    assert "not sent" in out
    assert "webhooksecret1234" not in out and "abcdefghijklmn" not in out
    assert "webhooksecret1234" not in note.last_error
