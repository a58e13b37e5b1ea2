"""The Gateway API option: HTTPRoutes for the webhook path and the admin (and, optionally, a
Gateway terminating TLS), validated against the Gateway API v1 schema, every other object
strictly as before, and the webhook URL derived from the route."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.k8s.manifests import (
    CHART_DIR,
    KUBERNETES_VERSIONS,
    Obj,
    by_kind,
    find,
    httproute_routes,
    is_routed,
    load_all,
    render_overlay_with,
)
from tests.k8s.tools import Tools, run, validate_strict

VALIDATOR = Path(__file__).with_name("gateway_api")
GATEWAY_API = "gateway.networking.k8s.io/v1"
CREATE = (
    "ingress.enabled=false", "gateway.enabled=true", "gateway.create=true",
    "gateway.className=eg", "gateway.tlsSecretName=tgbot-tls",
    "gateway.annotations.cert-manager\\.io/cluster-issuer=letsencrypt",
)  # fmt: skip
ATTACH = (
    "gateway.enabled=true", "gateway.parentRefs[0].name=public",
    "gateway.parentRefs[0].namespace=gateway-system",
)  # fmt: skip

Validate = Callable[[list[Obj]], list[str]]


@pytest.fixture(scope="session")
def gateway_schema() -> Validate:
    """Gateway API v1 schema validation: @kubernetes-models/gateway-api (npm, pinned by
    tests/k8s/gateway_api/package-lock.json), installed here on first use with `npm ci`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed for the Gateway API schema (the machine's Node.js)")
    if not (VALIDATOR / "node_modules" / "@kubernetes-models" / "gateway-api").is_dir():
        installed = run(npm, "ci", "--no-audit", "--no-fund", "--prefix", str(VALIDATOR))
        assert installed.returncode == 0, installed.stderr

    def validate(objs: list[Obj]) -> list[str]:
        result = run(node, str(VALIDATOR / "validate.mjs"), stdin=json.dumps(objs))
        problems = result.stdout.splitlines()
        if result.returncode != 0 and not problems:
            problems.append(f"validate.mjs exited {result.returncode}: {result.stderr}")
        return problems

    return validate


def template(tools: Tools, *sets: str) -> tuple[int, str]:
    args = [arg for s in sets for arg in ("--set", s)]
    result = run(*tools.helm, "template", "tgbot", str(CHART_DIR),
                 "-f", str(CHART_DIR / "values-prod.yaml"), *args)  # fmt: skip
    return result.returncode, result.stdout if result.returncode == 0 else result.stderr


def rendered(tools: Tools, *sets: str) -> list[Obj]:
    code, out = template(tools, *sets)
    assert code == 0, out
    return load_all(out)


@pytest.mark.parametrize("sets", [CREATE, ATTACH], ids=["own-gateway", "attached"])
def test_routes_validate_against_the_gateway_api_and_the_rest_strictly(
    tools: Tools, gateway_schema: Validate, tmp_path: Path, sets: tuple[str, ...]
) -> None:
    objs = rendered(tools, *sets)
    gateway_objs = [o for o in objs if o["apiVersion"] == GATEWAY_API]
    others = [o for o in objs if o["apiVersion"] != GATEWAY_API]
    manifest = tmp_path / "others.yaml"
    manifest.write_text(yaml.safe_dump_all(others))

    assert {o["kind"] for o in gateway_objs} >= {"HTTPRoute"}
    assert gateway_schema(gateway_objs) == []
    for version in KUBERNETES_VERSIONS:
        assert validate_strict(tools, manifest, version) == []


def test_the_schema_check_can_fail(gateway_schema: Validate) -> None:
    bad = {
        "apiVersion": GATEWAY_API, "kind": "HTTPRoute", "metadata": {"name": "bad"},
        "spec": {"rules": [{"matches": [{"path": {"type": "Glob", "value": "/x"}}]}]},
    }  # fmt: skip
    unknown = {"apiVersion": "gateway.networking.k8s.io/v9", "kind": "HTTPRoute",
               "metadata": {"name": "u"}}  # fmt: skip

    problems = gateway_schema([bad, unknown])

    assert any("HTTPRoute/bad" in p and "path/type" in p for p in problems)
    assert any("HTTPRoute/u" in p for p in problems)


def test_own_gateway_terminates_tls_and_routes_only_the_public_paths(tools: Tools) -> None:
    objs = rendered(tools, *CREATE)
    [gateway] = by_kind(objs, "Gateway")
    routes = {r["metadata"]["name"]: r for r in by_kind(objs, "HTTPRoute")}
    bot = find(objs, "Deployment", "tgbot-bot")
    assert bot is not None
    env = {
        e["name"]: e.get("value") for e in bot["spec"]["template"]["spec"]["containers"][0]["env"]
    }

    assert by_kind(objs, "Ingress") == []
    listeners = {lst["name"]: lst for lst in gateway["spec"]["listeners"]}
    assert {lst["protocol"] for lst in listeners.values()} == {"HTTPS"}
    assert gateway["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    for name, host in (("bot", "bot.example.com"), ("admin", "admin.example.com")):
        route = routes[f"tgbot-{name}"]
        assert listeners[name]["hostname"] == host
        assert listeners[name]["tls"]["certificateRefs"] == [
            {"kind": "Secret", "name": "tgbot-tls"}
        ]
        assert route["spec"]["hostnames"] == [host]
        assert route["spec"]["parentRefs"] == [{"name": "tgbot", "sectionName": name}]
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                service = find(objs, "Service", backend["name"])
                assert service is not None
                assert backend["port"] in {p["port"] for p in service["spec"]["ports"]}

    webhook = httproute_routes(routes["tgbot-bot"])
    assert webhook == [("/telegram/webhook", "Exact")]
    assert env["WEBHOOK_URL"] == "https://bot.example.com/telegram/webhook"
    admin = httproute_routes(routes["tgbot-admin"])
    for public in ("/admin/", "/admin/login/", "/static/admin/css/base.css", "/i18n/setlang/", "/"):
        assert is_routed(public, admin), public
    for internal in ("/metrics", "/healthz", "/readyz"):
        assert not is_routed(internal, admin), internal
        assert not is_routed(internal, webhook), internal


def test_attached_routes_name_the_given_gateway_beside_the_ingress(tools: Tools) -> None:
    objs = rendered(tools, *ATTACH)

    assert by_kind(objs, "Gateway") == []
    assert len(by_kind(objs, "Ingress")) == 1  # both while DNS moves
    for route in by_kind(objs, "HTTPRoute"):
        assert route["spec"]["parentRefs"] == [{"name": "public", "namespace": "gateway-system"}]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("gateway.enabled=true",), "gateway.parentRefs: name the Gateway"),
        (("gateway.enabled=true", "gateway.create=true"),
         "gateway.create: needs gateway.className"),
        (("gateway.enabled=true", "gateway.parentRefs[0].name=public",
          "config.webhookUrl=https://bot.example.com/telegram/webhook"),
         "config.webhookUrl: leave it empty"),
    ],
)  # fmt: skip
def test_incomplete_gateway_values_are_refused(
    tools: Tools, sets: tuple[str, ...], message: str
) -> None:
    code, err = template(tools, *sets)

    assert code != 0
    assert message in err


def test_kustomize_component_replaces_the_ingress_with_valid_routes(
    tools: Tools, gateway_schema: Validate, tmp_path: Path
) -> None:
    objs = render_overlay_with(tools, tmp_path, "prod", ["gateway-api"])
    routes = {r["metadata"]["name"]: r for r in by_kind(objs, "HTTPRoute")}

    assert by_kind(objs, "Ingress") == []
    assert gateway_schema(list(routes.values())) == []
    for route in routes.values():
        for rule in route["spec"]["rules"]:
            for backend in rule["backendRefs"]:
                service = find(objs, "Service", backend["name"])
                assert service is not None
                assert backend["port"] in {p["port"] for p in service["spec"]["ports"]}
    assert httproute_routes(routes["tgbot-bot"]) == [("/telegram/webhook", "Exact")]
    admin = httproute_routes(routes["tgbot-admin"])
    for public in ("/admin/", "/static/admin/css/base.css", "/i18n/setlang/", "/"):
        assert is_routed(public, admin), public
    assert not is_routed("/metrics", admin)
