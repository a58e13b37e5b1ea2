"""The GitHub workflows do what the release process promises (actionlint checks their syntax in
.ci/run; these check their content against the repository)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = ROOT / ".github" / "workflows"


def _load(name: str) -> dict[str, Any]:
    document: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_ci_runs_ci_run_on_pushes_and_pull_requests() -> None:
    ci = _load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    runs = [step.get("run", "") for step in _steps(ci)]
    assert "bash .ci/run" in runs
    checkout = next(s for s in _steps(ci) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0, "hatch-vcs needs the tags"


def test_release_pushes_every_image_with_sbom_and_provenance() -> None:
    release = _load("release.yml")
    assert release["on"]["push"]["tags"] == ["v*.*.*"]
    images = release["jobs"]["images"]
    built = {f"Dockerfile.{name}" for name in images["strategy"]["matrix"]["image"]}
    assert built == {path.name for path in ROOT.glob("Dockerfile.*")}
    build = next(s for s in images["steps"] if s.get("uses", "").startswith("docker/build-push"))
    assert build["with"]["push"] is True
    assert build["with"]["sbom"] is True
    assert build["with"]["provenance"] == "mode=max"
    assert "VERSION=${{ needs.version.outputs.version }}" in build["with"]["build-args"]


def test_release_pushes_the_chart_as_an_oci_artifact() -> None:
    release = _load("release.yml")
    script = "\n".join(step.get("run", "") for step in release["jobs"]["chart"]["steps"])
    assert 'helm package charts/tgbot --version "$VERSION" --app-version "$VERSION"' in script
    assert 'helm push "dist/tgbot-$VERSION.tgz" "oci://' in script
    assert (ROOT / "charts" / "tgbot" / "Chart.yaml").exists()


def test_dependabot_watches_python_docker_and_actions() -> None:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"] for update in config["updates"]}
    assert {"uv", "docker", "github-actions"} <= ecosystems
