"""Container start -> /readyz 200 for the bot and the admin, and each container's idle memory.

    docker compose -p tgbot-bench --profile dev up -d --wait
    uv run python bench/compose_startup.py -p tgbot-bench [--runs 7] [--idle 20]

Against a running dev stack (any project name, any published ports). For each of `bot` and
`admin`, `--runs` times: `docker stop` the container, then time from `docker start` being issued
until its published `/readyz` first answers 200 (polled every 20 ms from the host; the published
port is looked up after the start, which the figure includes). Then, after `--idle` seconds
without traffic, `docker stats --no-stream` gives every container's memory. Prints a table with
the load average (the figures move with whatever else the machine runs) and saves
bench/results/compose_startup.json. Targets (issue #6): bot <= 3 s, admin <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVICES = {"bot": (8080, 3.0), "admin": (8000, 5.0)}
POLL_SECONDS = 0.02
DEADLINE_SECONDS = 120.0


def docker(*args: str) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def container_id(project: str, service: str) -> str:
    cid = docker(
        "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
        "--filter", f"label=com.docker.compose.service={service}",
    )  # fmt: skip
    if not cid or "\n" in cid:
        raise SystemExit(f"expected one running {service} container in project {project}")
    return cid


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (http only)
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def start_to_ready(cid: str, port: int) -> float:
    """Seconds from `docker start` to the first 200 of /readyz (container stopped first)."""
    docker("stop", "--time", "30", cid)
    started = time.perf_counter()
    docker("start", cid)
    published = docker("port", cid, f"{port}/tcp").splitlines()[0].rsplit(":", 1)[1]
    url = f"http://127.0.0.1:{published}/readyz"
    while time.perf_counter() - started < DEADLINE_SECONDS:
        if ready(url):
            return time.perf_counter() - started
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"{url} not ready within {DEADLINE_SECONDS} s")


def idle_memory(project: str) -> dict[str, str]:
    names = docker("ps", "--filter", f"label=com.docker.compose.project={project}",
                   "--format", "{{.Names}}").split()  # fmt: skip
    lines = docker("stats", "--no-stream", "--format", "{{.Name}}\t{{.MemUsage}}", *names)
    memory = {}
    for line in lines.splitlines():
        name, usage = line.split("\t")
        service = name.removeprefix(f"{project}-").rsplit("-", 1)[0]
        memory[service] = usage.split(" / ")[0]
    return dict(sorted(memory.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("-p", "--project", default="tgbot", help="compose project name")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--idle", type=float, default=20.0, help="seconds idle before stats")
    args = parser.parse_args()

    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_before": os.getloadavg(),
        "startup_seconds": {},
    }
    for service, (port, target) in SERVICES.items():
        cid = container_id(args.project, service)
        runs = [round(start_to_ready(cid, port), 2) for _ in range(args.runs)]
        results["startup_seconds"][service] = {
            "runs": runs,
            "median": statistics.median(runs),
            "target": target,
        }
    results["load_after"] = os.getloadavg()
    time.sleep(args.idle)  # let the restarted services settle before reading memory
    results["idle_memory"] = idle_memory(args.project)

    print(f"load average before {results['load_before']}, after {results['load_after']}")
    print("| service | start -> /readyz 200, median | runs (s) | target |")
    print("| --- | --- | --- | --- |")
    for service, figures in results["startup_seconds"].items():
        runs = ", ".join(f"{r:.2f}" for r in figures["runs"])
        print(f"| {service} | {figures['median']:.2f} s | {runs} | <= {figures['target']:.0f} s |")
    print("| container | idle memory |")
    print("| --- | --- |")
    for service, usage in results["idle_memory"].items():
        print(f"| {service} | {usage} |")
    out = ROOT / "bench" / "results" / "compose_startup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
