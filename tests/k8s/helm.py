"""`helm template` and `helm lint` over the Helm v4 SDK that `uv sync` installs (helm-python-sdk).

The tests need no helm binary: this module is the two commands they use, with the flags they use,
and the exit codes and output of the real CLI::

    uv run python -m tests.k8s.helm template tgbot charts/tgbot -f charts/tgbot/values-prod.yaml
    uv run python -m tests.k8s.helm lint --strict charts/tgbot -f charts/tgbot/values-prod.yaml

Values compose as helm composes them: the chart's defaults, then each ``-f`` file in order, then
each ``--set`` (tables merge key by key, anything else replaces). A schema violation or a
template's ``fail`` exits 1 with helm's message on stderr. Run in a subprocess per call, so a
crash of the native library fails one test, not the session.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml

# Severity of a lint message (helm's support.Severity): 2 is a warning, 3 an error.
WARNING, ERROR = 2, 3


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of user values: tables merge recursively, other values replace."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def user_values(files: list[str], sets: list[str], set_strings: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for file in files:
        values = merge(values, yaml.safe_load(Path(file).read_text()) or {})
    # One expression for all flags, as helm parses each --set into the same map in turn (two
    # flags setting items of one list build one list).
    if sets:
        values = merge(values, helm.parse_set_string(",".join(sets)))
    if set_strings:
        values = merge(values, helm.parse_set_string_values(",".join(set_strings)))
    return values


def template(args: argparse.Namespace) -> int:
    values = user_values(args.values, args.set, args.set_string)
    with helm.Chart.load(args.chart) as chart:
        chart.validate_schema(values)
        rendered = chart.render(
            values, name=args.release, namespace=args.namespace, is_install=True
        )
    for path in sorted(rendered):
        text = rendered[path].strip()
        if not text or path.endswith("NOTES.txt"):
            continue
        sys.stdout.write(f"---\n# Source: {path}\n{text}\n")
    return 0


def lint(args: argparse.Namespace) -> int:
    values = user_values(args.values, args.set, args.set_string)
    report = helm.lint(args.chart, values, strict=args.strict, namespace=args.namespace)
    failing = ERROR if not args.strict else WARNING
    failed = bool(report["errors"])
    for message in report["messages"]:
        severity = int(message["severity"])
        label = {1: "INFO", WARNING: "WARNING", ERROR: "ERROR"}.get(severity, "UNKNOWN")
        print(f"[{label}] {message['path']}: {message['error']}")
        failed = failed or severity >= failing
    for error in report["errors"]:
        print(f"Error: {error}", file=sys.stderr)
    print(f"1 chart(s) linted, {1 if failed else 0} chart(s) failed")
    return 1 if failed else 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="helm", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)
    for name in ("template", "lint"):
        command = commands.add_parser(name)
        if name == "template":
            command.add_argument("release")
        command.add_argument("chart")
        command.add_argument("-f", "--values", action="append", default=[])
        command.add_argument("--set", action="append", default=[])
        command.add_argument("--set-string", action="append", default=[])
        command.add_argument("-n", "--namespace", default="default")
        if name == "lint":
            command.add_argument("--strict", action="store_true")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    helm.disable_logging()
    try:
        return template(args) if args.command == "template" else lint(args)
    except helm.HelmError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
