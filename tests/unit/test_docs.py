"""Documentation that must stay true to the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_doc_lists_every_setting() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_config_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_configuration_doc_shows_real_defaults() -> None:
    """A default made by a factory (the admin's host lists) is shown as its value, not as
    pydantic's internal placeholder."""
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert "PydanticUndefined" not in doc
    rows = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in doc.splitlines()
            if line.startswith("| `")}  # fmt: skip
    assert rows["`ALLOWED_HOSTS`"] == "—"
    assert rows["`CSRF_TRUSTED_ORIGINS`"] == "—"
    assert rows["`LOG_LEVEL`"] == "`INFO`"
    assert rows["`SENTRY_DSN`"] == "—"


def test_readme_quick_start_has_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = quick_start.split("```")[1::2]
    commands = [
        line.strip()
        for block in blocks
        for line in block.splitlines()[1:]
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands == ["docker compose --profile dev up -d --wait", "uv run pytest"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nuv run pytest\n" in ci


ADR_HEADINGS = [
    "Дата",
    "Статус",
    "Контекст",
    "Решение",
    "Альтернативы",
    "Последствия",
    "Ретроспектива",
]


def test_every_adr_has_the_teams_headings_and_is_in_the_index() -> None:
    adr_dir = ROOT / "docs" / "adr"
    index = (adr_dir / "README.md").read_text(encoding="utf-8")
    records = sorted(adr_dir.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert records
    for record in records:
        lines = record.read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith(f"# ADR {record.name[:4]}: "), record.name
        headings = [line[3:] for line in lines if line.startswith("## ")]
        assert headings == ADR_HEADINGS, record.name
        assert f"]({record.name})" in index, f"{record.name} is not in docs/adr/README.md"
