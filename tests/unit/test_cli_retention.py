"""The operator's retention flags: durations, and no deleting without an archive to write to first."""

from __future__ import annotations

import click
import pytest

from kubatch.cli.main import DURATION, main


@pytest.mark.parametrize(("text", "seconds"), [("0", 0), ("45", 45), ("90s", 90), ("30m", 1800), ("6h", 21600),
                                               ("7d", 604800)])
def test_a_retention_is_seconds_or_a_number_with_a_unit(text: str, seconds: int) -> None:
    assert DURATION.convert(text, None, None) == seconds


@pytest.mark.parametrize("text", ["1w", "-5", "d", "1.5h", ""])
def test_other_durations_are_refused_saying_how_to_write_one(text: str) -> None:
    with pytest.raises(click.BadParameter, match="write seconds, or a number with s, m, h or d"):
        DURATION.convert(text, None, None)


def test_the_operator_refuses_a_retention_without_an_archive(capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBATCH_ARCHIVE_URL", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["operator", "--finished-job-retention", "1d"])
    assert exited.value.code == 2
    assert "--finished-job-retention needs --archive-url" in capsys.readouterr().err
