"""monitoring/: promtool checks the rules and runs their unit tests; every alert is tested, has
a runbook paragraph, and the dashboard is well-formed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.monitoring import (
    DASHBOARDS,
    MONITORING,
    RULE_FILES,
    RULE_TESTS,
    alert_rules,
    dashboard_exprs,
)

OPERATIONS = Path(__file__).parents[3] / "docs" / "operations.md"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    message = "promtool is not installed (apt-get install prometheus; .ci/run does)"
    if os.environ.get("TEST_FORBID_SKIPS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=MONITORING, check=False)


def test_rule_files_are_valid(promtool: str) -> None:
    result = run(promtool, "check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_passes_its_unit_tests(promtool: str) -> None:
    result = run(promtool, "test", "rules", *map(str, RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_prometheus_config_is_valid_and_loads_the_rules(promtool: str) -> None:
    result = run(promtool, "check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout  # rules/tgbot.yml


def test_every_alert_has_a_firing_and_a_quiet_unit_test() -> None:
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts - firing == set(), "alerts never shown to fire"
    assert alerts - quiet == set(), "alerts never shown to stay quiet"


def test_every_alert_has_a_runbook_paragraph() -> None:
    text = OPERATIONS.read_text()
    headings = {
        line.lstrip("#").strip().lower() for line in text.splitlines() if line.startswith("###")
    }
    for rule in alert_rules():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor in headings, f"{rule['alert']}: docs/operations.md has no '### {anchor}'"
        assert rule["alert"] in text, f"docs/operations.md never names {rule['alert']}"


def test_dashboards_are_provisionable() -> None:
    import json

    assert DASHBOARDS
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        assert dashboard["uid"]
        assert dashboard["title"]
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(ids) == len(set(ids))
    assert all(expr.strip() for expr in dashboard_exprs())
