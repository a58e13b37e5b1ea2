"""Alerts under the Prometheus Operator: the labels a ServiceMonitor gives its targets satisfy every
alert's selector (the operator names the job after the Service, which carries the release name),
and the chart's PrometheusRule is monitoring/rules, with the backup alerts naming its CronJob."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.manifests import (
    CHART_DIR,
    Obj,
    by_kind,
    find,
    load_all,
    name_of,
    render_overlay_with,
)
from tests.k8s.tools import Tools, run
from tests.support.monitoring import MONITORING

RELEASE = "prod"  # a release name that is not the chart's: Services are `prod-tgbot-*`
NAMESPACE = "tgbot-prod"
COMPONENTS = ("bot", "dispatcher", "admin")
# Labels Prometheus gives a target (the operator's defaults plus relabelings); matchers on other
# labels (result, status, ...) select samples, not targets.
TARGET_LABELS = {"job", "namespace", "service", "tgbot_service", "instance", "pod", "endpoint"}
SELECTOR = re.compile(r"\{([^{}]*)\}")
MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"')


def chart_monitoring(tools: Tools) -> list[Obj]:
    result = run(
        *tools.helm, "template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE,
        "-f", str(CHART_DIR / "values-prod.yaml"),
        "--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return load_all(result.stdout)


def overlay_with_monitoring(tools: Tools, tmp_path: Path) -> list[Obj]:
    return render_overlay_with(tools, tmp_path, "prod", ["monitoring"])


def target_labels(monitor: Obj, objs: list[Obj]) -> dict[str, str]:
    """What the operator labels the monitor's targets with: job and service are the Service's
    name (no jobLabel), namespace its namespace, then the endpoint's relabelings."""
    selector = monitor["spec"]["selector"]["matchLabels"]
    services = [
        s for s in by_kind(objs, "Service")
        if all(s["metadata"]["labels"].get(k) == v for k, v in selector.items())
    ]  # fmt: skip
    assert len(services) == 1, name_of(monitor)
    service = services[0]
    labels = {
        "job": name_of(service),
        "service": name_of(service),
        "namespace": str(service["metadata"].get("namespace", NAMESPACE)),
    }
    for endpoint in monitor["spec"]["endpoints"]:
        for relabel in endpoint.get("relabelings", []):
            assert relabel.get("action", "replace") == "replace"
            assert not relabel.get("sourceLabels"), "only constant labels are modelled here"
            labels[relabel["targetLabel"]] = relabel["replacement"]
    return labels


def selectors(expr: str) -> list[list[tuple[str, str, str]]]:
    """Each {…} of an expression as its matchers on target labels."""
    found = []
    for body in SELECTOR.findall(expr):
        matchers = [m for m in MATCHER.findall(body) if m[0] in TARGET_LABELS]
        if matchers:
            found.append(matchers)
    return found


def satisfies(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for name, op, value in matchers:
        actual = labels.get(name, "")
        ok = {
            "=": actual == value,
            "!=": actual != value,
            "=~": re.fullmatch(value, actual) is not None,
            "!~": re.fullmatch(value, actual) is None,
        }[op]
        if not ok:
            return False
    return True


def service_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((MONITORING / "rules" / "tgbot.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def check_monitors_satisfy_rules(objs: list[Obj]) -> None:
    monitors = by_kind(objs, "ServiceMonitor")
    assert len(monitors) == len(COMPONENTS)
    targets = {name_of(m): target_labels(m, objs) for m in monitors}
    assert sorted(t["tgbot_service"] for t in targets.values()) == sorted(COMPONENTS)
    checked = 0
    for rule in service_rules():
        for matchers in selectors(rule["expr"]):
            matching = [name for name, labels in targets.items() if satisfies(labels, matchers)]
            checked += 1
            assert matching, f"{rule['alert']}: {matchers} matches no scraped target"
            if "up{" in rule["expr"]:  # a down service alerts for each of them
                assert len(matching) == len(COMPONENTS), (rule["alert"], matching)
    assert checked, "no rule selects targets: the test would prove nothing"


def test_chart_monitors_satisfy_every_alert_selector(tools: Tools) -> None:
    check_monitors_satisfy_rules(chart_monitoring(tools))


def test_kustomize_monitoring_component_satisfies_every_alert_selector(
    tools: Tools, tmp_path: Path
) -> None:
    objs = overlay_with_monitoring(tools, tmp_path)

    check_monitors_satisfy_rules(objs)
    for monitor in by_kind(objs, "ServiceMonitor"):
        assert monitor["metadata"]["namespace"] == "tgbot"
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["path"] == "/metrics"


@pytest.mark.parametrize("name", ["tgbot.yml", "backup-kubernetes.yml"])
def test_chart_rule_files_are_monitoring_rules(name: str) -> None:
    copy = CHART_DIR / "files" / "rules" / name
    assert copy.read_text() == (MONITORING / "rules" / name).read_text(), (
        f"cp monitoring/rules/{name} {copy.relative_to(CHART_DIR.parents[1])}"
    )


def test_prometheus_rule_carries_the_alerts_and_names_the_backup_cronjob(tools: Tools) -> None:
    objs = chart_monitoring(tools)
    [rule] = by_kind(objs, "PrometheusRule")
    groups = {g["name"]: g["rules"] for g in rule["spec"]["groups"]}
    cronjob = find(objs, "CronJob", f"{RELEASE}-tgbot-backup")
    assert cronjob is not None

    assert groups["tgbot"] == service_rules()
    backup_exprs = [r["expr"] for r in groups["tgbot-backup-kubernetes"]]
    assert len(backup_exprs) == 3
    for expr in backup_exprs:
        assert f'cronjob=~"{name_of(cronjob)}"' in expr


def test_prometheus_rule_is_off_by_default_and_drops_backup_alerts_without_backup(
    tools: Tools,
) -> None:
    result = run(
        *tools.helm, "template", RELEASE, str(CHART_DIR), "-f", str(CHART_DIR / "values-prod.yaml"),
        "--set", "prometheusRule.enabled=true", "--set", "backup.enabled=false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    [rule] = by_kind(load_all(result.stdout), "PrometheusRule")
    assert [g["name"] for g in rule["spec"]["groups"]] == ["tgbot"]

    default = run(*tools.helm, "template", RELEASE, str(CHART_DIR), "-f",
                  str(CHART_DIR / "values-prod.yaml"))  # fmt: skip
    assert by_kind(load_all(default.stdout), "PrometheusRule") == []
