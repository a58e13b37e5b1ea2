"""What monitoring/ refers to: alert rules, their promtool tests, the Grafana dashboard."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

MONITORING = Path(__file__).parents[2] / "monitoring"
RULE_FILES = sorted((MONITORING / "rules").glob("*.yml"))
RULE_TESTS = sorted((MONITORING / "tests").glob("*.yml"))
DASHBOARDS = sorted((MONITORING / "grafana").glob("*.json"))
# Our metric names; others (up, kube_*) come from Prometheus and kube-state-metrics. A name
# followed by a matcher is a label (tgbot_service="bot"), not a metric, and so is tgbot_service
# wherever it stands (`max by (tgbot_service)`).
OUR_METRIC = re.compile(r"\b(?!tgbot_service\b)(?:tgbot|tgadmin)_[a-z0-9_]+\b(?!\s*(?:=|!=|=~|!~))")


def alert_rules() -> Iterator[dict[str, Any]]:
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield rule


def dashboard_exprs() -> Iterator[str]:
    def walk(panels: Iterable[dict[str, Any]]) -> Iterator[str]:
        for panel in panels:
            for target in panel.get("targets", []):
                yield str(target["expr"])
            yield from walk(panel.get("panels", []))

    for path in DASHBOARDS:
        yield from walk(json.loads(path.read_text())["panels"])


def referenced_metrics() -> set[str]:
    """Every metric name of ours used by an alert or a dashboard panel, as exposed (suffixed)."""
    exprs = [str(rule["expr"]) for rule in alert_rules()] + list(dashboard_exprs())
    return {name for expr in exprs for name in OUR_METRIC.findall(expr)}


def exposed_names(exposition: str) -> set[str]:
    """Sample names a /metrics page offers, with the suffixes a family implies even before its
    first sample (a labelled counter shows only HELP/TYPE until a label set is used)."""
    from prometheus_client.parser import text_string_to_metric_families

    names: set[str] = set()
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("_sum", "_count", "_created"),
        "gauge": ("",),
    }
    for family in text_string_to_metric_families(exposition):
        names.update(sample.name for sample in family.samples)
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names
