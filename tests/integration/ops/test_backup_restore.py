"""Backups with a verified restore: the shipped image (Dockerfile.backup) against real servers.

Data is seeded through the real schema (alembic head), dumped by ``tgbot-backup backup`` run in
the backup image, restored into a database on a second, fresh PostgreSQL server, and compared
table by table: row counts and a checksum of every row's content.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.support import services
from tests.support.monitoring import exposed_names, referenced_metrics

REPO = Path(__file__).parents[3]
IMAGE = "tgbot-backup:test"


class Run:
    def __init__(self, code: int, output: str) -> None:
        self.code = code
        self.output = output


@pytest.fixture(scope="module")
def docker_client() -> Iterator[Any]:
    if not services.docker_available():
        pytest.skip("the backup tests run the backup image: they need a Docker engine")
    import docker

    client = docker.from_env()
    client.images.build(
        path=str(REPO),
        dockerfile="Dockerfile.backup",
        tag=IMAGE,
        buildargs={"POSTGRES_IMAGE": services.POSTGRES_IMAGE},
        rm=True,
    )
    yield client
    client.close()


def backup_tool(
    client: Any, backups: Path, *args: str, url: str, image: str = IMAGE, **env: str
) -> Run:
    """``tgbot-backup ARGS`` in a container of ``image``; the host's loopback is its own."""
    container = client.containers.run(
        image,
        list(args),
        entrypoint=["bash", "/opt/tgbot-backup.sh"] if image != IMAGE else None,
        environment={"DATABASE_URL": url, **env},
        volumes={
            str(backups): {"bind": "/backups", "mode": "rw"},
            str(REPO / "backup" / "tgbot-backup.sh"): {
                "bind": "/opt/tgbot-backup.sh",
                "mode": "ro",
            },
        },
        network_mode="host",
        detach=True,
    )
    try:
        code = int(container.wait(timeout=240)["StatusCode"])
        output = container.logs(stdout=True, stderr=True).decode()
    finally:
        container.remove(force=True)
    return Run(code, output)


@pytest.fixture(scope="module")
def second_server(docker_client: Any) -> Iterator[services.PostgresServer]:
    """A fresh PostgreSQL server of its own: the machine a restore lands on after a disaster."""
    with services.postgres_container() as (url, _):
        yield services.PostgresServer(url)


@pytest.fixture
def backups(tmp_path: Path) -> Path:
    path = tmp_path / "backups"
    path.mkdir()
    path.chmod(0o777)  # the image runs as the postgres user
    return path


def seed(url: str) -> None:
    """A little of everything the bot stores, with NULLs, JSON, non-ASCII text and sequences."""
    with psycopg.connect(services.psycopg_url(url)) as conn:
        for i in range(1, 41):
            conn.execute(
                "INSERT INTO tg_users (telegram_id, username, first_name, language, is_subscribed)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    1000 + i,
                    f"user{i}" if i % 3 else None,
                    f"Имя {i} ✓",
                    "ru" if i % 2 else "en",
                    i % 4 != 0,
                ),
            )
            cid = conn.execute(
                "INSERT INTO conversations (user_id, status) VALUES (%s, %s) RETURNING id",
                (1000 + i, "open" if i % 5 else "closed"),
            ).fetchone()
            assert cid is not None
            conn.execute(
                "INSERT INTO messages (conversation_id, direction, content_type, text)"
                " VALUES (%s, 'in', 'text', %s), (%s, 'out', 'text', %s)",
                (cid[0], f"help me {i}\nline 2 'quoted' \\ tab\t", cid[0], f"answer {i}"),
            )
        bid = conn.execute(
            "INSERT INTO broadcasts (title, text, status, total_count, sent_count)"
            " VALUES ('news', 'Hello, 世界', 'done', 30, 30) RETURNING id"
        ).fetchone()
        assert bid is not None
        for i in range(1, 31):
            conn.execute(
                "INSERT INTO outbox (chat_id, payload, status, idempotency_key, broadcast_id)"
                " VALUES (%s, %s, 'sent', %s, %s)",
                (
                    1000 + i,
                    psycopg.types.json.Jsonb({"text": "Hello, 世界", "n": i}),
                    f"broadcast:{bid[0]}:{1000 + i}",
                    bid[0],
                ),
            )
        conn.execute(
            "INSERT INTO bot_texts (key, language, body) VALUES ('welcome', 'en', 'Hi {name}!')"
        )


def table_fingerprints(url: str) -> dict[str, tuple[int, str]]:
    """Every table of every non-system schema: (row count, md5 of its rows in a fixed order)."""
    with psycopg.connect(services.psycopg_url(url)) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        result: dict[str, tuple[int, str]] = {}
        for schema, table in tables:
            query = sql.SQL(
                "SELECT count(*), coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '')"
                " FROM {}.{} AS t"
            ).format(sql.Identifier(schema), sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            result[f"{schema}.{table}"] = (int(row[0]), str(row[1]))
        return result


def sequence_values(url: str) -> dict[str, int | None]:
    with psycopg.connect(services.psycopg_url(url)) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"
        ).fetchall()
    return {name: value for name, value in rows}


@pytest.fixture(scope="module")
def source_url(pg_server: services.PostgresServer) -> Iterator[str]:
    from tgbot.db.migrate import migrate

    url = pg_server.create_database("tgbackup")
    migrate(url)
    seed(url)
    yield url
    pg_server.drop_database(url)


def only_dump(backups: Path) -> Path:
    dumps = sorted(backups.glob("tgbot-*.dump"))
    assert len(dumps) == 1, dumps
    return dumps[0]


def test_backup_restores_into_a_fresh_server_with_identical_content(
    docker_client: Any, source_url: str, second_server: services.PostgresServer, backups: Path
) -> None:
    before = time.time()
    made = backup_tool(docker_client, backups, "backup", url=source_url)
    assert made.code == 0, made.output
    assert '"event":"backup.done"' in made.output
    dump = only_dump(backups)
    assert dump.stat().st_size > 0
    assert not list(backups.glob(".*partial"))

    # the freshness metric the alert reads (node-exporter textfile format)
    metrics = (backups / "metrics" / "tgbot_backup.prom").read_text()
    stamp = next(
        float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("tgbot_backup_last_success_timestamp_seconds ")
    )
    assert before - 1 <= stamp <= time.time() + 1
    assert f"tgbot_backup_last_size_bytes {dump.stat().st_size}" in metrics
    backup_metrics = {m for m in referenced_metrics() if m.startswith("tgbot_backup_")}
    assert backup_metrics, "the alerts read the backup's timestamp"
    assert backup_metrics <= exposed_names(metrics)

    target = second_server.create_database("restored")
    restored = backup_tool(docker_client, backups, "restore", f"/backups/{dump.name}", url=target)
    assert restored.code == 0, restored.output

    expected = table_fingerprints(source_url)
    assert "public.alembic_version" in expected
    assert expected["public.tg_users"][0] == 40
    assert expected["public.messages"][0] == 80
    assert table_fingerprints(target) == expected
    assert sequence_values(target) == sequence_values(source_url)


def test_restore_refuses_a_database_with_tables_unless_forced(
    docker_client: Any, source_url: str, second_server: services.PostgresServer, backups: Path
) -> None:
    assert backup_tool(docker_client, backups, "backup", url=source_url).code == 0
    dump = f"/backups/{only_dump(backups).name}"
    target = second_server.create_database("occupied")
    with psycopg.connect(services.psycopg_url(target)) as conn:
        conn.execute("CREATE TABLE precious (id int)")
        conn.execute("INSERT INTO precious VALUES (1)")

    refused = backup_tool(docker_client, backups, "restore", dump, url=target)
    assert refused.code == 5, refused.output
    assert "target database is not empty" in refused.output
    assert set(table_fingerprints(target)) == {"public.precious"}

    forced = backup_tool(docker_client, backups, "restore", dump, "--force", url=target)
    assert forced.code == 0, forced.output
    restored = table_fingerprints(target)
    assert restored.pop("public.precious")[0] == 1  # not in the dump: left alone
    assert restored == table_fingerprints(source_url)


@pytest.mark.parametrize("damage", ["truncated", "corrupted"])
def test_a_damaged_dump_is_reported_and_nothing_is_restored(
    docker_client: Any,
    source_url: str,
    second_server: services.PostgresServer,
    backups: Path,
    damage: str,
) -> None:
    assert backup_tool(docker_client, backups, "backup", url=source_url).code == 0
    good = only_dump(backups)
    data = bytearray(good.read_bytes())
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
    else:  # flip bytes in the compressed table data, past the table of contents
        for offset in range(len(data) * 3 // 4, len(data) * 3 // 4 + 64):
            data[offset] ^= 0xFF
    bad = backups / f"damaged-{damage}.dump"
    bad.write_bytes(bytes(data))
    bad.chmod(0o644)

    checked = backup_tool(docker_client, backups, "verify", f"/backups/{bad.name}", url=source_url)
    assert checked.code == 4, checked.output
    assert "corrupt or truncated dump" in checked.output

    target = second_server.create_database("damaged")
    refused = backup_tool(docker_client, backups, "restore", f"/backups/{bad.name}", url=target)
    assert refused.code == 4, refused.output
    assert "corrupt or truncated dump" in refused.output
    assert table_fingerprints(target) == {}


def test_an_older_pg_dump_than_the_server_is_refused_in_words(
    docker_client: Any, source_url: str, backups: Path
) -> None:
    """pg_dump 15 (Debian bookworm's) against the PostgreSQL 17 server."""
    if services.POSTGRES_IMAGE != "postgres:17":
        pytest.skip("this check pairs postgres:15's client with a postgres:17 server")
    made = backup_tool(docker_client, backups, "backup", url=source_url, image="postgres:15")
    assert made.code == 6, made.output
    assert '"event":"backup.version_mismatch"' in made.output
    assert "run the backup from postgres:17" in made.output
    assert not list(backups.iterdir())


def test_database_url_from_a_secret_file_and_a_bad_url(
    docker_client: Any, source_url: str, backups: Path
) -> None:
    sqlalchemy_style = source_url.replace("postgresql://", "postgresql+psycopg://")
    (backups / "url").write_text(sqlalchemy_style + "\n")
    (backups / "url").chmod(0o644)
    made = backup_tool(
        docker_client,
        backups,
        "backup",
        url="",
        DATABASE_URL_FILE="/backups/url",
        BACKUP_METRICS_PATH="",
    )
    assert made.code == 0, made.output
    assert not (backups / "metrics").exists()

    bad = backup_tool(docker_client, backups, "backup", url="mysql://x@y/z")
    assert bad.code == 2
    assert "DATABASE_URL must be a postgresql:// URL" in bad.output
