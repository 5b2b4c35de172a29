"""Logging: JSON lines off a terminal, secrets masked wherever they appear."""

from __future__ import annotations

import io
import json
import logging

import structlog

from warning.log import configure


def _logged(**event: object) -> dict[str, object]:
    """Log one event to a buffer and parse it back."""
    buffer = io.StringIO()
    configure("info", "json", buffer)
    structlog.get_logger().info("test.event", **event)
    parsed: dict[str, object] = json.loads(buffer.getvalue())
    return parsed


def test_json_lines_with_stable_event_name() -> None:
    """Off a terminal each event is one JSON object with its dotted name."""
    line = _logged(feed="inatews")
    assert line["event"] == "test.event"
    assert line["feed"] == "inatews"
    assert line["level"] == "info"


def test_secret_keys_are_masked() -> None:
    """auth_token, Authorization and *_token values never reach the log."""
    line = _logged(auth_token="s3cr3tvalue", headers={"Authorization": "Bearer abcdef123456"})
    text = json.dumps(line)
    assert "s3cr3tvalue" not in text
    assert "abcdef123456" not in text


def test_secret_shapes_in_text_are_masked() -> None:
    """A Twilio token or URL credentials inside an error message are masked."""
    token = "0123456789abcdef0123456789abcdef"
    line = _logged(error=f"401 for https://AC1:{token}@api.twilio.com/ token={token}")
    assert token not in json.dumps(line)


def test_debug_filtered_at_info() -> None:
    """Below the configured level nothing is written."""
    buffer = io.StringIO()
    configure("info", "json", buffer)
    structlog.get_logger().debug("test.quiet")
    assert buffer.getvalue() == ""


def test_library_logging_becomes_masked_json_lines() -> None:
    """A library's stdlib warning (APScheduler, twilio) is one JSON line, secrets masked."""
    buffer = io.StringIO()
    configure("info", "json", buffer)
    token = "0123456789abcdef0123456789abcdef"
    logging.getLogger("apscheduler.scheduler").warning("job skipped; token=%s", token)
    logging.getLogger("twilio.http_client").info("request sent")
    [line] = buffer.getvalue().splitlines()
    parsed = json.loads(line)
    assert parsed["logger"] == "apscheduler.scheduler"
    assert parsed["level"] == "warning"
    assert token not in line
