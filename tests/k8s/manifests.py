"""Rendering the kustomize overlays and the Helm chart, and walking the rendered objects."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.k8s.tools import ROOT, Tools, run

K8S_DIR = ROOT / "k8s"
CHART_DIR = ROOT / "charts" / "tgbot"
DOCS = ROOT / "docs" / "kubernetes.md"
OVERLAYS = ("dev", "staging", "prod")
CHART_VALUES = ("dev", "staging", "prod")
# Two Kubernetes minors bundled with kubernetes-validate: the oldest we support and the newest.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
APP_IMAGES = ("tgbot-bot", "tgbot-admin", "tgbot-backup")

Obj = dict[str, Any]
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


@dataclass(frozen=True)
class Target:
    """One rendered configuration: an overlay or the chart with one values file."""

    kind: str  # "overlay" or "chart"
    env: str
    extra: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.env}{'+' if self.extra else ''}{'+'.join(self.extra)}"

    @property
    def values_file(self) -> Path:
        return CHART_DIR / f"values-{self.env}.yaml"


TARGETS = tuple(Target("overlay", e) for e in OVERLAYS) + tuple(
    Target("chart", e) for e in CHART_VALUES
)


class RenderError(AssertionError):
    pass


@cache
def render_text(tools: Tools, target: Target) -> str:
    if target.kind == "overlay":
        result = run(tools.kubectl, "kustomize", str(K8S_DIR / "overlays" / target.env))
    else:
        sets = [arg for s in target.extra for arg in ("--set", s)]
        result = run(
            *tools.helm, "template", "tgbot", str(CHART_DIR),
            "--namespace", f"tgbot-{target.env}",
            "-f", str(target.values_file), *sets,
        )  # fmt: skip
    if result.returncode != 0:
        raise RenderError(f"rendering {target.id} failed:\n{result.stderr}")
    return result.stdout


def load_all(text: str) -> list[Obj]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render(tools: Tools, target: Target) -> list[Obj]:
    return load_all(render_text(tools, target))


def name_of(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def by_kind(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o["kind"] == kind]


def find(objs: list[Obj], kind: str, name: str) -> Obj | None:
    return next((o for o in by_kind(objs, kind) if name_of(o) == name), None)


def pod_template(obj: Obj) -> Obj | None:
    """The pod template of a workload (CronJobs through their job template)."""
    if obj["kind"] == "CronJob":
        return dict(obj["spec"]["jobTemplate"]["spec"]["template"])
    if obj["kind"] in POD_OWNERS:
        return dict(obj["spec"]["template"])
    return None


def workloads(objs: list[Obj]) -> Iterator[tuple[Obj, Obj]]:
    """(workload, pod template) for every object that runs pods."""
    for obj in objs:
        template = pod_template(obj)
        if template is not None:
            yield obj, template


def containers(pod_spec: Obj) -> Iterator[tuple[str, Obj]]:
    """(kind, container) for init and regular containers."""
    for c in pod_spec.get("initContainers", []):
        yield "init", c
    for c in pod_spec.get("containers", []):
        yield "main", c


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def matches_expressions(selector: Obj, labels: dict[str, str]) -> bool:
    """A full LabelSelector (matchLabels and matchExpressions); an empty one matches all."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        present = expr["key"] in labels
        value = labels.get(expr["key"])
        op = expr["operator"]
        if op == "In" and value not in expr["values"]:
            return False
        if op == "NotIn" and value in expr["values"]:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def image_name_and_tag(image: str) -> tuple[str, str | None]:
    """("registry/repo/name", tag or None); digests are not used here."""
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag
    return image, None


def expected_app_tags(target: Target) -> dict[str, str]:
    """The tag each application image must carry in a target, read from its own config."""
    if target.kind == "overlay":
        kustomization = yaml.safe_load(
            (K8S_DIR / "overlays" / target.env / "kustomization.yaml").read_text()
        )
        return {i["name"]: str(i["newTag"]) for i in kustomization["images"]}
    values = yaml.safe_load(target.values_file.read_text())["image"]
    return {name: str(values[name.removeprefix("tgbot-")]["tag"]) for name in APP_IMAGES}


def app_image_of(image: str) -> str | None:
    """ "tgbot-bot", "tgbot-admin" or "tgbot-backup" when the image is one of ours."""
    repo, _ = image_name_and_tag(image)
    base = repo.rsplit("/", 1)[-1]
    return base if base in APP_IMAGES else None


_DOC_ROW = re.compile(r"^\|\s*`(?P<secret>[a-z0-9.-]+)`\s*\|\s*`(?P<key>[A-Za-z0-9._-]+)`\s*\|")


def operator_supplied_keys() -> set[tuple[str, str]]:
    """(Secret, key) pairs docs/kubernetes.md documents as created by the operator."""
    text = DOCS.read_text()
    section = text.split("## What the operator supplies", 1)[1].split("\n## ", 1)[0]
    return {(m["secret"], m["key"]) for m in map(_DOC_ROW.match, section.splitlines()) if m}


def env_of(container: Obj, objs: list[Obj]) -> dict[str, str]:
    """A container's environment: literal env plus keys of ConfigMaps it loads with envFrom."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        if ref:
            cm = find(objs, "ConfigMap", ref["name"])
            if cm:
                env.update(cm.get("data", {}))
    for item in container.get("env", []):
        env[item["name"]] = str(item.get("value", "<from a reference>"))
    return env


def ingress_routes(ingress: Obj, service_suffix: str) -> list[tuple[str, str]]:
    """(path, pathType) of every Ingress path whose backend Service ends in ``-service_suffix``."""
    return [
        (p["path"], p["pathType"])
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
        if p["backend"]["service"]["name"].endswith(f"-{service_suffix}")
    ]


def httproute_routes(route: Obj) -> list[tuple[str, str]]:
    """(path, Ingress pathType) of every path match of an HTTPRoute (PathPrefix is Prefix:
    both match whole path elements)."""
    kinds = {"Exact": "Exact", "PathPrefix": "Prefix"}
    return [
        (m["path"]["value"], kinds[m["path"]["type"]])
        for rule in route["spec"]["rules"]
        for m in rule.get("matches", [])
        if "path" in m
    ]


def is_routed(url_path: str, routes: list[tuple[str, str]]) -> bool:
    """Whether a request path reaches one of the routes, by the Ingress rules: Exact matches the
    whole path, Prefix whole path elements (/static/ matches /static/a.css, /adminx does not
    match /admin)."""
    for path, path_type in routes:
        if path_type == "Exact" and url_path == path:
            return True
        if path_type == "Prefix":
            elements = [e for e in path.split("/") if e]
            if [e for e in url_path.split("/") if e][: len(elements)] == elements:
                return True
    return False


def render_overlay_with(tools: Tools, workdir: Path, env: str, components: list[str]) -> list[Obj]:
    """An overlay with optional components switched on, as the overlay's `components:` list
    would (a kustomization in ``workdir`` with the overlay's namespace)."""
    overlay = K8S_DIR / "overlays" / env
    namespace = yaml.safe_load((overlay / "kustomization.yaml").read_text())["namespace"]
    (workdir / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": namespace,
                "resources": [os.path.relpath(overlay, workdir)],
                "components": [
                    os.path.relpath(K8S_DIR / "components" / c, workdir) for c in components
                ],
            }
        )
    )
    result = run(tools.kubectl, "kustomize", str(workdir))
    if result.returncode != 0:
        raise RenderError(f"rendering {env} with {components} failed:\n{result.stderr}")
    return load_all(result.stdout)
