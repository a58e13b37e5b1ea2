"""The kustomize tree keeps the house layout: a plain base, optional pieces as components,
patch-only overlays, and none of kustomize's deprecated fields."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.k8s.manifests import K8S_DIR, OVERLAYS

DEPRECATED = {"bases", "patchesStrategicMerge", "patchesJson6902", "commonLabels", "vars",
              "imageTags"}  # fmt: skip
OVERLAY_FIELDS = {
    "apiVersion", "kind", "namespace", "resources", "components", "images", "replicas", "patches",
    "replacements",
}  # fmt: skip
KUSTOMIZATIONS = sorted(K8S_DIR.rglob("kustomization.yaml"))


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("path", KUSTOMIZATIONS, ids=lambda p: str(p.relative_to(K8S_DIR)))
def test_no_deprecated_kustomize_fields(path: Path) -> None:
    assert set(load(path)) & DEPRECATED == set()


@pytest.mark.parametrize("env", OVERLAYS)
def test_overlays_only_patch_the_base(env: str) -> None:
    kustomization = load(K8S_DIR / "overlays" / env / "kustomization.yaml")

    assert set(kustomization) <= OVERLAY_FIELDS
    assert kustomization["resources"] == ["../../base"]
    for component in kustomization.get("components", []):
        assert load(K8S_DIR / "overlays" / env / component / "kustomization.yaml")["kind"] == (
            "Component"
        )


def test_base_labels_leave_selectors_alone() -> None:
    base = load(K8S_DIR / "base" / "kustomization.yaml")

    assert "namespace" not in base
    for entry in base["labels"]:
        assert entry["includeSelectors"] is False
