"""One version everywhere, and it comes from the git tag (hatch-vcs), or from the build argument
when the source has no git metadata (a Docker build context)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", ["tgbot", "tgadmin"])
def test_cli_version_is_the_installed_release(command: str) -> None:
    executable = str(Path(sys.executable).with_name(command))
    out = _run([executable, "--version"], ROOT, env={"PATH": os.environ["PATH"]})
    assert out.strip() == f"{command} {version('tgbot-platform')}"


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's packaging inputs, as in a fresh checkout (without the working tree's .git)."""
    tree = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "src", tree / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return tree


def _wheel_version(tree: Path, out: Path, env: dict[str, str]) -> str:
    uv = shutil.which("uv")
    assert uv, "uv is on PATH wherever the tests run"
    _run([uv, "build", "--wheel", "--out-dir", str(out), "--quiet"], tree, env=env)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    return next(line.split(": ", 1)[1] for line in lines if line.startswith("Version: "))


def _build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SETUPTOOLS_SCM_")}
    env.update(GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org")
    env.update(GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")
    return env


def test_a_tag_is_the_version(source: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tagged"
    shutil.copytree(source, tree)
    env = _build_env()
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "."],
        ["git", "commit", "--quiet", "-m", "release"],
        ["git", "tag", "v9.8.7"],
    ):
        _run(command, tree, env=env)
    assert _wheel_version(tree, tmp_path / "dist-tag", env) == "9.8.7"

    (tree / "CHANGES").write_text("after the release\n")
    _run(["git", "add", "CHANGES"], tree, env=env)
    _run(["git", "commit", "--quiet", "-m", "work"], tree, env=env)
    between = _wheel_version(tree, tmp_path / "dist-next", env)
    assert between.startswith("9.8.8.dev1+g"), between


def test_without_git_the_build_argument_is_the_version(source: Path, tmp_path: Path) -> None:
    env = {**_build_env(), "SETUPTOOLS_SCM_PRETEND_VERSION": "1.2.3"}
    assert _wheel_version(source, tmp_path / "dist-arg", env) == "1.2.3"
    assert _wheel_version(source, tmp_path / "dist-none", _build_env()) == "0.0.0"
