"""Writes charts/tgbot/README.md from the `## @section` and `## @param` lines of values.yaml.

uv run python scripts/gen_chart_readme.py          # rewrite the README (after changing a value)
uv run python scripts/gen_chart_readme.py --check  # exit 1 if it is out of date (a test does this)

Each `## @param path Description` line becomes a row: the path, the description, and the default
read from values.yaml itself (so a changed default shows up too).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parent.parent / "charts" / "tgbot"
README = CHART / "README.md"
SECTION = re.compile(r"^\s*## @section (?P<title>.+)$")
PARAM = re.compile(r"^\s*## @param (?P<path>\S+) (?P<description>.+)$")

HEADER = """# tgbot Helm chart

{description}

```sh
helm upgrade --install --timeout 20m tgbot charts/tgbot -n tgbot -f charts/tgbot/values-prod.yaml
```

Environments: `values-dev.yaml` (sandbox, in-cluster PostgreSQL and Redis), `values-staging.yaml`,
`values-prod.yaml`. What the operator supplies, upgrades, rollbacks and day-two operations:
[docs/kubernetes.md](../../docs/kubernetes.md). Every value below is checked by
`values.schema.json` (unknown keys are refused).

This file is generated from the `## @param` lines of `values.yaml` by
`scripts/gen_chart_readme.py`; a test fails when it is out of date.
"""


def default_of(values: dict[str, Any], path: str) -> str:
    node: Any = values
    for part in path.split("."):
        node = node[part]
    text = json.dumps(node, ensure_ascii=False)
    return f"`{text}`".replace("|", "\\|")


def render() -> str:
    text = (CHART / "values.yaml").read_text()
    values = yaml.safe_load(text)
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    out = [HEADER.format(description=chart["description"]).rstrip("\n")]
    for line in text.splitlines():
        if match := SECTION.match(line):
            out.append(f"\n## {match['title']}\n")
            out.append("| Name | Description | Default |")
            out.append("| --- | --- | --- |")
        elif match := PARAM.match(line):
            description = match["description"].replace("|", "\\|")
            default = default_of(values, match["path"])
            out.append(f"| `{match['path']}` | {description} | {default} |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    wanted = render()
    if args.check:
        if not README.exists() or README.read_text() != wanted:
            print(f"{README} is out of date: uv run python scripts/gen_chart_readme.py")
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
