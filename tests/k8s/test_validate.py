"""Every overlay and every chart values file renders, and the result passes strict schema
validation for two Kubernetes minors; helm lint --strict passes for every values file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.k8s.manifests import (
    CHART_DIR,
    CHART_VALUES,
    KUBERNETES_VERSIONS,
    TARGETS,
    Target,
    by_kind,
    find,
    load_all,
    name_of,
    render_text,
)
from tests.k8s.tools import Tools, run, validate_strict


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_rendered_output_validates_strictly(
    tools: Tools, target: Target, version: str, tmp_path: Path
) -> None:
    manifest = tmp_path / f"{target.id}.yaml"
    manifest.write_text(render_text(tools, target))

    assert validate_strict(tools, manifest, version) == []


@pytest.mark.parametrize("env", CHART_VALUES)
def test_helm_lint_strict(tools: Tools, env: str) -> None:
    result = run(
        *tools.helm, "lint", "--strict", str(CHART_DIR), "-f", str(CHART_DIR / f"values-{env}.yaml")
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_an_unknown_kind_fails_validation(tools: Tools, tmp_path: Path) -> None:
    manifest = tmp_path / "crd.yaml"
    manifest.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {}\n")

    problems = validate_strict(tools, manifest, KUBERNETES_VERSIONS[-1])

    assert any("Widget" in p for p in problems)


def test_an_unknown_field_fails_validation(tools: Tools, tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbogus: 1\n")

    assert validate_strict(tools, manifest, KUBERNETES_VERSIONS[0]) != []


def test_service_monitors_scrape_existing_metrics_ports(tools: Tools, tmp_path: Path) -> None:
    """ServiceMonitor is a CRD without a bundled schema: everything else is validated strictly,
    the ServiceMonitors are checked against the Services they select."""
    target = Target("chart", "prod", ("serviceMonitor.enabled=true",))
    objs = load_all(render_text(tools, target))
    monitors = by_kind(objs, "ServiceMonitor")
    others = [o for o in objs if o["kind"] != "ServiceMonitor"]
    manifest = tmp_path / "without-monitors.yaml"
    manifest.write_text(yaml.safe_dump_all(others))

    assert {name_of(m) for m in monitors} == {"tgbot-bot", "tgbot-dispatcher", "tgbot-admin"}
    for monitor in monitors:
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        selector = monitor["spec"]["selector"]["matchLabels"]
        services = [
            s for s in by_kind(objs, "Service")
            if all(s["metadata"]["labels"].get(k) == v for k, v in selector.items())
        ]  # fmt: skip
        assert len(services) == 1, name_of(monitor)
        port_names = {p["name"] for p in services[0]["spec"]["ports"]}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["port"] in port_names
            assert endpoint["path"] == "/metrics"
    assert find(objs, "Deployment", "tgbot-bot") is not None
    assert validate_strict(tools, manifest, KUBERNETES_VERSIONS[-1]) == []
