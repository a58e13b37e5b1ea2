from __future__ import annotations

import pytest

from tgbot.cli import EXIT_CONFIG, main


def test_bad_sandbox_settings_exit_2_with_one_line_each(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # the sandbox never needs it
    monkeypatch.setenv("SANDBOX_PORT", "eighty")
    monkeypatch.setenv("SANDBOX_WEBHOOK_ATTEMPTS", "0")

    assert main(["sandbox"]) == EXIT_CONFIG

    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("config error: SANDBOX_PORT: ")
    assert lines[1].startswith("config error: SANDBOX_WEBHOOK_ATTEMPTS: ")
