"""Retention of backup/tgbot-backup.sh: 7 daily, 4 weekly (ISO), 6 monthly, counted among the
backups that exist. The script runs for real (bash, GNU date) on a directory of named files."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = Path(__file__).parents[3] / "backup" / "tgbot-backup.sh"
UTC = dt.UTC


def name(when: dt.datetime) -> str:
    return f"tgbot-{when:%Y%m%dT%H%M%SZ}.dump"


def expected_kept(stamps: set[dt.datetime], daily: int, weekly: int, monthly: int) -> set[str]:
    """The specification, written plainly: newest backup of each of the newest N buckets."""
    kept: set[str] = set()
    for keys, limit in (
        (lambda t: t.date(), daily),
        (lambda t: t.isocalendar()[:2], weekly),
        (lambda t: (t.year, t.month), monthly),
    ):
        seen: list[object] = []
        for when in sorted(stamps, reverse=True):
            key = keys(when)
            if key not in seen and len(seen) < limit:
                seen.append(key)
                kept.add(name(when))
    return kept


def prune(directory: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), "prune", *args],
        env={**os.environ, "BACKUP_DIR": str(directory), "BACKUP_METRICS_PATH": "", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def make(directory: Path, stamps: set[dt.datetime]) -> None:
    for when in stamps:
        (directory / name(when)).write_bytes(b"dump")


def test_a_hundred_nightly_backups_keep_seven_days_four_weeks_six_months(tmp_path: Path) -> None:
    start = dt.datetime(2025, 6, 30, 3, 0, tzinfo=UTC)
    stamps = {start - dt.timedelta(days=i) for i in range(100)}
    make(tmp_path, stamps)
    (tmp_path / "notes.txt").write_text("not a backup")
    (tmp_path / ".tgbot-20250630T040000Z.dump.partial").write_bytes(b"in progress")

    result = prune(tmp_path)

    assert result.returncode == 0, result.stderr
    left = {p.name for p in tmp_path.iterdir() if p.name.endswith(".dump")}
    assert left == expected_kept(stamps, 7, 4, 6)
    # Jun 30 2025 is a Monday: 7 days (Jun 24-30); ISO weeks add Sundays Jun 22 and 15 (the two
    # newer weeks' newest are already kept); months add May 31, Apr 30, Mar 31 (100 days reach
    # back only to Mar 23, so there are 4 months, not 6).
    assert sorted(left) == sorted(
        name(dt.datetime(2025, m, d, 3, tzinfo=UTC))
        for m, d in [(3, 31), (4, 30), (5, 31), (6, 15), (6, 22)] + [(6, d) for d in range(24, 31)]
    )
    assert (tmp_path / "notes.txt").exists()
    assert (tmp_path / ".tgbot-20250630T040000Z.dump.partial").exists()
    assert '"event":"backup.pruned"' in result.stdout
    assert '"removed":"88"' in result.stdout


def test_old_backups_survive_when_new_ones_stop_coming(tmp_path: Path) -> None:
    """Buckets count existing backups, not days back from today: a long outage deletes nothing."""
    stamps = {dt.datetime(2020, 1, d, 3, tzinfo=UTC) for d in range(1, 6)}
    make(tmp_path, stamps)
    assert prune(tmp_path).returncode == 0
    assert {p.name for p in tmp_path.iterdir()} == {name(t) for t in stamps}


def test_bad_retention_setting_is_refused(tmp_path: Path) -> None:
    result = prune(tmp_path, BACKUP_KEEP_DAILY="seven")
    assert result.returncode == 2
    assert "BACKUP_KEEP_DAILY must be a whole number" in result.stderr


# hypothesis wants naive bounds; every moment is then read as UTC, as the file names are.
moments = st.datetimes(
    min_value=dt.datetime(2023, 1, 1),  # noqa: DTZ001
    max_value=dt.datetime(2026, 12, 31),  # noqa: DTZ001
).map(lambda t: t.replace(microsecond=0, tzinfo=UTC))


@settings(max_examples=40, deadline=None)
@given(
    stamps=st.sets(moments, max_size=40),
    daily=st.integers(0, 8),
    weekly=st.integers(0, 5),
    monthly=st.integers(0, 7),
)
def test_dry_run_lists_exactly_what_retention_drops(
    stamps: set[dt.datetime], daily: int, weekly: int, monthly: int
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as raw:
        directory = Path(raw)
        make(directory, stamps)
        result = prune(
            directory,
            "--dry-run",
            BACKUP_KEEP_DAILY=str(daily),
            BACKUP_KEEP_WEEKLY=str(weekly),
            BACKUP_KEEP_MONTHLY=str(monthly),
        )
        assert result.returncode == 0, result.stderr
        dropped = set(result.stdout.split())
        kept = expected_kept(stamps, daily, weekly, monthly)
        assert dropped == {name(t) for t in stamps} - kept
        # a dry run deletes nothing
        assert {p.name for p in directory.iterdir()} == {name(t) for t in stamps}
        if stamps and (daily or weekly or monthly):
            assert name(max(stamps)) in kept
