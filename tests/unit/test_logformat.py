"""``--log-format json``: one JSON object per line, with the exception when there is one."""

from __future__ import annotations

import io
import json
import logging

import pytest

from kubatch.logformat import configure_logging


@pytest.fixture
def captured() -> io.StringIO:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    yield stream
    root.handlers[:], root.level = saved


def test_json_lines_carry_time_level_logger_message_and_exception(captured: io.StringIO) -> None:
    configure_logging(verbose=False, log_format="json")
    logging.getLogger().handlers[0].setStream(captured)
    logging.getLogger("kubatch.test").info("job %s is RUNNABLE", "render")
    logging.getLogger("kubatch.test").debug("not shown without --verbose")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("kubatch.test").exception("cycle failed")
    first, second = (json.loads(line) for line in captured.getvalue().splitlines())
    assert first["message"] == "job render is RUNNABLE" and first["level"] == "info"
    assert first["logger"] == "kubatch.test" and first["time"].endswith("Z")
    assert second["level"] == "error" and "ValueError: boom" in second["exception"]


def test_text_is_the_default(captured: io.StringIO) -> None:
    configure_logging(verbose=True)
    logging.getLogger().handlers[0].setStream(captured)
    logging.getLogger("kubatch.test").debug("details")
    assert captured.getvalue().rstrip().endswith("DEBUG kubatch.test: details")
