"""Outbound traffic is limited in every overlay and chart configuration: the bot and the
dispatcher reach DNS, PostgreSQL, Redis and HTTPS (plus the sandbox in development), the admin
DNS, PostgreSQL and HTTPS (the inbox's media proxy reads from the Bot API; the sandbox in
development); and the chart can pin images by digest."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import (
    TARGETS,
    Obj,
    Target,
    by_kind,
    load_all,
    matches_expressions,
    workloads,
)
from tests.k8s.test_chart_values import template
from tests.k8s.tools import Tools

DNS = {(53, "UDP"), (53, "TCP")}
BOT_EGRESS = DNS | {(5432, "TCP"), (6379, "TCP"), (443, "TCP")}
ADMIN_EGRESS = DNS | {(5432, "TCP"), (443, "TCP")}  # the Bot API: the inbox's media proxy
DIGEST = "sha256:" + "0123456789abcdef" * 4


def pod_labels(objects: list[Obj], component: str) -> dict[str, str]:
    (labels,) = [
        pod["metadata"]["labels"]
        for owner, pod in workloads(objects)
        if owner["kind"] == "Deployment"
        and pod["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    return labels


def egress_of(objects: list[Obj], labels: dict[str, str]) -> list[Obj] | None:
    """The egress rules that apply to pods with ``labels`` (None: egress is not limited)."""
    policies = [
        p
        for p in by_kind(objects, "NetworkPolicy")
        if "Egress" in p["spec"].get("policyTypes", [])
        and matches_expressions(p["spec"]["podSelector"], labels)
    ]
    if not policies:
        return None
    return [rule for p in policies for rule in p["spec"].get("egress", [])]


def ports(rules: list[Obj], *, to_anywhere: bool) -> set[tuple[int, str]]:
    return {
        (int(port["port"]), port.get("protocol", "TCP"))
        for rule in rules
        if ("to" not in rule) == to_anywhere
        for port in rule.get("ports", [])
    }


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_egress_is_limited_to_what_each_service_needs(objects: list[Obj], target: Target) -> None:
    sandbox = any(
        t["metadata"]["labels"].get("app.kubernetes.io/component") == "sandbox"
        for _, t in workloads(objects)
    )
    for component, allowed in (
        ("bot", BOT_EGRESS),
        ("dispatcher", BOT_EGRESS),
        ("admin", ADMIN_EGRESS),
    ):
        rules = egress_of(objects, pod_labels(objects, component))
        assert rules is not None, f"{component}: egress is not limited"
        assert all(rule.get("ports") for rule in rules), f"{component}: a rule without ports"
        assert ports(rules, to_anywhere=True) == allowed, component
        # Only pods of this release are reachable on any other port: the sandbox in development.
        scoped = ports(rules, to_anywhere=False) - allowed
        expected = {(8081, "TCP")} if sandbox else set()
        assert scoped == expected, component
        for rule in rules:
            for peer in rule.get("to", []):
                assert "podSelector" in peer
                assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == (
                    "sandbox"
                )


def test_the_chart_narrows_https_to_given_ranges(tools: Tools) -> None:
    code, out = template(
        tools,
        "networkPolicy.egress.telegramCidrs={149.154.160.0/20,91.108.4.0/22}",
        values="values-prod.yaml",
    )
    assert code == 0, out
    objects = load_all(out)
    rules = egress_of(objects, pod_labels(objects, "bot"))
    assert rules is not None
    (https,) = [r for r in rules if {"port": 443, "protocol": "TCP"} in r["ports"]]
    assert https["to"] == [
        {"ipBlock": {"cidr": "149.154.160.0/20"}},
        {"ipBlock": {"cidr": "91.108.4.0/22"}},
    ]


def test_egress_limits_switch_off(tools: Tools) -> None:
    code, out = template(tools, "networkPolicy.egress.enabled=false", values="values-prod.yaml")
    assert code == 0, out
    objects = load_all(out)
    assert egress_of(objects, pod_labels(objects, "bot")) is None
    assert by_kind(objects, "NetworkPolicy")  # inbound policies stay


def test_the_chart_pins_images_by_digest(tools: Tools) -> None:
    code, out = template(tools, f"image.bot.digest={DIGEST}", values="values-prod.yaml")
    assert code == 0, out
    images = {
        c["image"]
        for _, t in workloads(load_all(out))
        for c in t["spec"].get("containers", []) + t["spec"].get("initContainers", [])
    }
    assert "registry.example.com/tgbot/tgbot-bot@" + DIGEST in images
    assert not any(i.startswith("registry.example.com/tgbot/tgbot-bot:") for i in images)
    assert "registry.example.com/tgbot/tgbot-admin:0.1.0" in images  # the others keep tags
    bad, message = template(tools, "image.bot.digest=latest", values="values-prod.yaml")
    assert bad != 0
    assert "digest" in message
