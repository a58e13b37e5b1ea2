"""Kubernetes manifests and the Helm chart, rendered and checked offline (no API server)."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import Obj, Target, render
from tests.k8s.tools import Tools, find_tools


@pytest.fixture(scope="session")
def tools() -> Tools:
    found = find_tools()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture
def objects(tools: Tools, target: Target) -> list[Obj]:
    return render(tools, target)
