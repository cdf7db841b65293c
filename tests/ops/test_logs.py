"""``[log] format = "json"``: one JSON object a line, with the activity id, community and
peer when the record has them, and nothing else a record carries."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from actors.logformat import JsonFormatter, use_format
from actors.settings import ConfigError, settings_from_dict
from tests.flows.copub import Copub, follow, sqlite_only
from tests.flows.remote import RemoteServer


def _line(record: logging.LogRecord) -> dict[str, object]:
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert isinstance(parsed, dict)
    return parsed


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("copub.test")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def test_a_line_carries_the_fields_and_only_the_known_extras() -> None:
    record = _record(
        "delivery of %s failed",
        "https://peer.example/a/1",
        activity_id="https://peer.example/a/1",
        community="nightshift",
        host="peer.example",
        status=503,
        signature='keyId="https://peer.example/u#key",signature="c2VjcmV0"',
        private_key="-----BEGIN PRIVATE KEY-----",
    )
    line = _line(record)
    assert line["level"] == "WARNING"
    assert line["logger"] == "copub.test"
    assert line["message"] == "delivery of https://peer.example/a/1 failed"
    assert str(line["time"]).endswith("+00:00")
    assert line["activity_id"] == "https://peer.example/a/1"
    assert line["community"] == "nightshift"
    assert line["peer"] == "peer.example"  # the delivery worker's host
    assert line["status"] == 503
    assert "signature" not in line
    assert "private_key" not in line
    assert "c2VjcmV0" not in json.dumps(line)


def test_an_exception_is_part_of_its_line() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = _record("it failed")
        record.exc_info = sys.exc_info()
    assert "ValueError: broken" in str(_line(record)["exception"])


def test_use_format_sets_json_on_the_handlers() -> None:
    logger = logging.getLogger("copub.test.use_format")
    stream = io.StringIO()
    logger.addHandler(logging.StreamHandler(stream))
    logger.propagate = False
    try:
        use_format("text", logger)
        logger.warning("plain")
        use_format("json", logger)
        logger.warning("structured", extra={"activity_id": "https://a.example/1"})
    finally:
        logger.handlers.clear()
        logger.propagate = True
    plain, structured = stream.getvalue().splitlines()
    assert plain == "plain"
    assert json.loads(structured)["activity_id"] == "https://a.example/1"


def test_the_log_format_is_text_or_json() -> None:
    assert settings_from_dict({}).log.format == "text"
    assert settings_from_dict({"log": {"format": "json"}}).log.format == "json"
    with pytest.raises(ConfigError, match=r"log\.format"):
        settings_from_dict({"log": {"format": "xml"}})


@sqlite_only
async def test_the_inbox_logs_an_accepted_activity_with_its_id(
    copub: Copub, remote: RemoteServer, community: str, caplog: pytest.LogCaptureFixture
) -> None:
    # When alice's signed Follow is accepted
    alice = remote.person("alice")
    with caplog.at_level(logging.INFO, logger="federation.inbox"):
        sent = await follow(remote, alice, copub, "nightshift")
    # Then its line, as JSON, names the activity
    lines = [_line(r) for r in caplog.records if r.name == "federation.inbox"]
    accepted = [line for line in lines if str(line["message"]).startswith("accepted Follow")]
    assert len(accepted) == 1, lines
    assert accepted[0]["activity_id"] == sent["id"]
    assert accepted[0]["activity_type"] == "Follow"
    assert accepted[0]["peer"] == remote.domain
