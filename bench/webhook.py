"""Webhook throughput and ack latency: `tgbot serve` (full persistence) vs a bare aiogram echo bot.

    uv run python bench/webhook.py [--updates 4000] [--concurrency 32] [--seconds 10]
                                   [--rounds 3] [--profile DIR]

Starts PostgreSQL and Redis (testcontainers, or TEST_DATABASE_URL / TEST_REDIS_URL), the Bot API
sandbox, `tgbot serve` and bench/echo_bot.py, all on this machine. For each bot it measures
  1. the ceiling: updates/s with `--concurrency` requests in flight (closed loop);
  2. latency at half that rate: an open-loop schedule for `--seconds`, p50/p99 of the ack time.
Each update is a new text message from one of 1,000 users, so `tgbot serve` registers or refreshes
the user, writes the message into a conversation and replies through the sandbox.
The two bots are measured in alternating rounds (echo, tgbot, echo, tgbot...), so both see the
machine in the same state; the table reports the medians over the rounds. Results are saved to
bench/results/webhook.json. ``tgbot serve`` runs with LOG_LEVEL=WARNING (no log line per update)
unless --bot-log-level says otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import services
from tests.support.processes import ServiceProcess, base_env, free_port

from tgbot.db.migrate import migrate

TOKEN = "123456:bench-token"
SECRET = "bench-secret"


def make_update(update_id: int) -> dict[str, Any]:
    user = 10_000_000 + update_id % 1000
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private", "first_name": "Bench"},
            "from": {"id": user, "is_bot": False, "first_name": "Bench", "language_code": "en"},
            "text": f"benchmark message {update_id}",
        },
    }


async def closed_loop(url: str, first_id: int, count: int, concurrency: int) -> dict[str, float]:
    ids = iter(range(first_id, first_id + count))
    latencies: list[float] = []
    errors = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for update_id in ids:
            started = time.perf_counter()
            async with session.post(url, json=make_update(update_id), headers=headers) as resp:
                await resp.read()
                if resp.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"updates_per_s": count / elapsed, "errors": errors, **_percentiles(latencies)}


async def open_loop(url: str, first_id: int, rate: float, seconds: float) -> dict[str, float]:
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def one(session: aiohttp.ClientSession, update_id: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        async with session.post(url, json=make_update(update_id), headers=headers) as resp:
            await resp.read()
            if resp.status != 200:
                errors += 1
        latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        start = time.perf_counter()
        tasks = []
        for i in range(total):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load, not synchronisation
            tasks.append(asyncio.create_task(one(session, first_id + i)))
        await asyncio.gather(*tasks)
    return {"rate": rate, "sent": total, "errors": errors, **_percentiles(latencies)}


def _percentiles(latencies: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(latencies, n=100)
    return {"p50_ms": qs[49] * 1000, "p99_ms": qs[98] * 1000}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine so far, over all cores (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK"), idle / os.sysconf("SC_CLK_TCK")


def container_cgroups() -> dict[str, Path]:
    """The cpuacct cgroups of this machine's PostgreSQL and Redis containers, where readable
    (Docker with cgroup v1, as here): their CPU time is part of an update's cost too."""
    try:
        listing = subprocess.run(
            ["docker", "ps", "--no-trunc", "--format", "{{.ID}} {{.Image}}"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {}
    found = {}
    for line in listing.splitlines():
        container, image = line.split(" ", 1)
        usage = Path(f"/sys/fs/cgroup/cpuacct/docker/{container}/cpuacct.usage")
        for name in ("postgres", "redis"):
            if image.startswith(name) and usage.exists():
                found[name] = usage
    return found


def _start_profiler(out_dir: str | None, name: str, pid: int) -> subprocess.Popen[bytes] | None:
    """py-spy (on PATH) samples the bot during the ceiling run: folded stacks per bot."""
    if not out_dir:
        return None
    target = Path(out_dir) / f"{name.replace(' ', '-')}.folded"
    target.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        "py-spy",
        "record",
        "-p",
        str(pid),
        "-o",
        str(target),
        "-f",
        "raw",
        "-r",
        "250",
        "--nonblocking",
    ]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(
    name: str,
    url: str,
    args: argparse.Namespace,
    first_id: int,
    pids: dict[str, int],
    profile: str | None,
) -> dict[str, Any]:
    asyncio.run(closed_loop(url, first_id, 300, args.concurrency))  # warm-up
    profiler = _start_profiler(profile, name, pids["bot"])
    cpu_before = {who: cpu_seconds(pid) for who, pid in pids.items()}
    containers = container_cgroups()
    containers_before = {name: int(path.read_text()) for name, path in containers.items()}
    busy_before, idle_before = machine_cpu()
    ceiling = asyncio.run(closed_loop(url, first_id + 1_000, args.updates, args.concurrency))
    if profiler is not None:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(60)
    # CPU per update does not depend on what else the machine is doing, unlike updates/s.
    ceiling["cpu_ms_per_update"] = {
        who: (cpu_seconds(pid) - cpu_before[who]) * 1000 / args.updates for who, pid in pids.items()
    }
    busy_after, idle_after = machine_cpu()
    for container, path in containers.items():
        used_ns = int(path.read_text()) - containers_before[container]
        ceiling["cpu_ms_per_update"][container] = used_ns / 1e6 / args.updates
    # Everything on the machine: the bot, the sandbox, PostgreSQL, Redis and the load generator.
    ceiling["cpu_ms_per_update"]["machine"] = (busy_after - busy_before) * 1000 / args.updates
    ceiling["machine_idle"] = (idle_after - idle_before) / (
        idle_after - idle_before + busy_after - busy_before
    )
    bot_cpu_before = cpu_seconds(pids["bot"])
    half = asyncio.run(
        open_loop(url, first_id + 1_000_000, ceiling["updates_per_s"] / 2, args.seconds)
    )
    half["bot_cpu_ms_per_update"] = (
        (cpu_seconds(pids["bot"]) - bot_cpu_before) * 1000 / half["sent"]
    )
    print(
        f"{name:12s} ceiling {ceiling['updates_per_s']:8.0f} upd/s  "
        f"(p50 {ceiling['p50_ms']:.1f} ms, p99 {ceiling['p99_ms']:.1f} ms,"
        f" errors {ceiling['errors']:.0f})"
        f" | at {half['rate']:.0f}/s: p50 {half['p50_ms']:.1f} ms, p99 {half['p99_ms']:.1f} ms,"
        f" errors {half['errors']:.0f}, bot CPU {half['bot_cpu_ms_per_update']:.2f} ms/update"
    )
    cpu = ", ".join(f"{who} {ms:.2f}" for who, ms in ceiling["cpu_ms_per_update"].items())
    print(
        f"{'':12s} CPU ms per update at the ceiling: {cpu}"
        f" (machine idle {ceiling['machine_idle']:.0%})"
    )
    return {"ceiling": ceiling, "half_rate": half}


def summarise(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the rounds, printed as the table docs/bot.md reports."""

    def median(bot: str, *path: str) -> float:
        values = []
        for r in rounds:
            value: Any = r[bot]
            for key in path:
                value = value[key]
            values.append(float(value))
        return statistics.median(values)

    summary: dict[str, Any] = {}
    print(f"medians of {len(rounds)} alternating rounds:")
    print("| | ceiling | p50 / p99 at the ceiling | at half rate p50 / p99 | bot CPU per update |")
    print("| --- | --- | --- | --- | --- |")
    bots = [("echo", "bare echo"), ("tgbot", "`tgbot serve`")]
    for bot, label in bots:
        figures = {
            "updates_per_s": median(bot, "ceiling", "updates_per_s"),
            "p50_ms": median(bot, "ceiling", "p50_ms"),
            "p99_ms": median(bot, "ceiling", "p99_ms"),
            "half_rate": median(bot, "half_rate", "rate"),
            "half_p50_ms": median(bot, "half_rate", "p50_ms"),
            "half_p99_ms": median(bot, "half_rate", "p99_ms"),
            "cpu_ms_per_update": median(bot, "ceiling", "cpu_ms_per_update", "bot"),
            "errors": sum(
                r[bot]["ceiling"]["errors"] + r[bot]["half_rate"]["errors"] for r in rounds
            ),
        }
        summary[bot] = figures
        print(
            f"| {label} | {figures['updates_per_s']:.0f} upd/s, {figures['errors']:.0f} errors"
            f" | {figures['p50_ms']:.1f} / {figures['p99_ms']:.1f} ms"
            f" | {figures['half_p50_ms']:.1f} / {figures['half_p99_ms']:.1f} ms"
            f" ({figures['half_rate']:.0f}/s) | {figures['cpu_ms_per_update']:.2f} ms |"
        )
    per_round = [
        r["tgbot"]["ceiling"]["updates_per_s"] / r["echo"]["ceiling"]["updates_per_s"]
        for r in rounds
    ]
    summary["ratio"] = summary["tgbot"]["updates_per_s"] / summary["echo"]["updates_per_s"]
    summary["ratio_per_round"] = per_round
    summary["cpu_ratio"] = (
        summary["echo"]["cpu_ms_per_update"] / summary["tgbot"]["cpu_ms_per_update"]
    )
    print(
        f"throughput ratio tgbot/echo: {summary['ratio']:.2f} (target >= 0.6; per round "
        + ", ".join(f"{x:.2f}" for x in per_round)
        + ")"
    )
    print(
        "CPU-efficiency ratio (echo CPU per update / tgbot CPU per update): "
        f"{summary['cpu_ratio']:.2f}"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per bot")
    parser.add_argument(
        "--bot-log-level",
        default="WARNING",
        help="tgbot serve's LOG_LEVEL (INFO, its default, logs a JSON line per update)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample each bot with py-spy during its ceiling run (folded stacks)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-webhook-"))

    with services.postgres_server() as pg, services.redis_server() as redis_url:
        db_url = pg.create_database("bench")
        migrate(db_url)
        sandbox_port, bot_port, echo_port = free_port(), free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        env = base_env(
            SANDBOX_HOST="127.0.0.1", SANDBOX_PORT=str(sandbox_port), LOG_LEVEL="WARNING"
        )
        sandbox = ServiceProcess(["sandbox"], env, tmp / "sandbox.log").start()
        bot = ServiceProcess(
            ["serve"],
            base_env(
                DATABASE_URL=db_url,
                REDIS_URL=redis_url,
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE=sandbox_url,
                TELEGRAM_API_ALLOW_HTTP="true",
                WEBHOOK_SECRET=SECRET,
                HTTP_HOST="127.0.0.1",
                HTTP_PORT=str(bot_port),
                THROTTLE_LIMIT="1000000",
                LOG_LEVEL=args.bot_log_level,
                DATABASE_POOL_SIZE="20",
            ),
            tmp / "bot.log",
        ).start()
        echo = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "echo_bot.py"),
                str(echo_port),
                sandbox_url,
                TOKEN,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            sandbox.wait_http(f"{sandbox_url}/sandbox/stats", timeout=120)
            bot.wait_http(f"http://127.0.0.1:{bot_port}/readyz", timeout=120)
            _wait_echo(echo_port)
            assert bot.proc is not None
            assert sandbox.proc is not None
            echo_pids = {"bot": echo.pid, "sandbox": sandbox.proc.pid}
            bot_pids = {"bot": bot.proc.pid, "sandbox": sandbox.proc.pid}
            rounds: list[dict[str, Any]] = []
            for r in range(args.rounds):
                # Alternating rounds: both bots see the same machine, whatever else it does.
                print(f"round {r + 1}/{args.rounds}")
                profile = args.profile if r == 0 else None
                echo_url = f"http://127.0.0.1:{echo_port}/telegram/webhook"
                bot_url = f"http://127.0.0.1:{bot_port}/telegram/webhook"
                result = {
                    "echo": measure(
                        "bare echo", echo_url, args, 1 + r * 5_000_000, echo_pids, profile
                    ),
                    "tgbot": measure(
                        "tgbot serve", bot_url, args, 100_000_000 + r * 5_000_000, bot_pids, profile
                    ),
                }
                rounds.append(result)
        finally:
            bot.stop()
            sandbox.stop()
            echo.terminate()
            echo.wait(10)
        summary = summarise(rounds)
        report = {
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "load_average": os.getloadavg(),
            },
            "args": vars(args),
            "rounds": rounds,
            "summary": summary,
        }
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "webhook.json").write_text(json.dumps(report, indent=2))


def _wait_echo(port: int) -> None:
    import httpx
    from tests.support.waiting import wait_until

    wait_until(
        lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200,
        timeout=120,
        what="echo bot",
    )


if __name__ == "__main__":
    main()
