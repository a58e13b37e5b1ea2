"""backup/tgbot-backup.sh never puts the database password in a process's arguments (visible to
every user of the host through ps): libpq gets it from PGPASSWORD. The script runs for real, with
stand-ins for psql, pg_dump and pg_restore that record their arguments and environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).parents[3] / "backup" / "tgbot-backup.sh"
STAND_IN = """#!/bin/bash
printf '%s\\t%s\\t%s\\n' "$(basename "$0")" "$*" "${PGPASSWORD-unset}" >> "$CALLS"
case "$(basename "$0")" in
  psql) echo 170000 ;;
  pg_dump)
    [ "${1-}" = --version ] && { echo "pg_dump (PostgreSQL) 17.2"; exit 0; }
    for a in "$@"; do case $a in --file=*) echo dump > "${a#--file=}" ;; esac; done ;;
esac
"""


def test_the_password_reaches_libpq_through_the_environment_only(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("psql", "pg_dump", "pg_restore"):
        (bin_dir / tool).write_text(STAND_IN)
        (bin_dir / tool).chmod(0o755)
    calls = tmp_path / "calls"
    url_file = tmp_path / "database_url"
    url_file.write_text(
        "postgresql+psycopg://backup:pa%40ss%3Aw0rd%5C@db:5432/tgbot?sslmode=require\n"
    )
    result = subprocess.run(
        ["bash", str(SCRIPT), "backup"],
        env={
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "CALLS": str(calls),
            "DATABASE_URL_FILE": str(url_file),
            "BACKUP_DIR": str(tmp_path / "backups"),
            "BACKUP_METRICS_PATH": "",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in calls.read_text().splitlines()]
    assert {tool for tool, _, _ in lines} == {"psql", "pg_dump", "pg_restore"}
    for tool, arguments, password in lines:
        assert "pa%40ss" not in arguments, (tool, arguments)
        assert "pa@ss" not in arguments, (tool, arguments)
        assert password == "pa@ss:w0rd\\", tool
    dumps = [args for tool, args, _ in lines if tool == "pg_dump" and "--dbname=" in args]
    assert len(dumps) == 1
    assert dumps[0].endswith("--dbname=postgresql://backup@db:5432/tgbot?sslmode=require")
    assert "pa@ss" not in result.stdout + result.stderr
