"""Encrypted off-site backups, for real: ``tgbot-backup`` in the shipped image encrypts each dump
with age to a public key, copies it to an S3 server (moto's server mode, a real S3 protocol
endpoint on this host) and applies retention there; ``restore --latest`` fetches, decrypts,
verifies and restores into a fresh PostgreSQL server. A wrong key, a truncated object and an
empty bucket each fail with a clear message and restore nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.ops.test_backup_restore import (  # noqa: F401 (fixtures)
    IMAGE,
    backup_tool,
    backups,
    docker_client,
    second_server,
    source_url,
    table_fingerprints,
)
from tests.support import services
from tests.support.processes import free_port

PREFIX = "prod/db"
AGE_MAGIC = b"age-encryption.org/v1"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    s3 = boto3.resource(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="offsite-id",
        aws_secret_access_key="offsite-secret",
        region_name="us-east-1",
    )
    name = f"tgbot-backups-{abs(hash(request.node.nodeid)) % 10**8}"
    b = s3.create_bucket(Bucket=name)
    yield b
    b.objects.all().delete()
    b.delete()


def keypair(client: Any) -> tuple[str, str]:
    """(identity file content, public key) from age-keygen in the backup image."""
    out = client.containers.run(IMAGE, [], entrypoint=["age-keygen"], remove=True).decode()
    public = next(line.split(": ", 1)[1] for line in out.splitlines() if "public key" in line)
    return out, public.strip()


@pytest.fixture(scope="module")
def keys(docker_client: Any) -> tuple[str, str]:  # noqa: F811
    return keypair(docker_client)


@pytest.fixture
def secrets_dir(backups: Path, keys: tuple[str, str]) -> Path:  # noqa: F811
    """Files the container reads: the S3 credentials (secret files) and, for restores only, the
    private key (never on the server in production: the operator brings it)."""
    path = backups / "secrets"
    path.mkdir()
    (path / "s3_access_key_id").write_text("offsite-id\n")
    (path / "s3_secret_access_key").write_text("offsite-secret\n")
    (path / "identity").write_text(keys[0])
    for file in path.iterdir():
        file.chmod(0o644)  # the image runs as the postgres user
    return path


def offsite_env(endpoint: str, bucket: Any, public_key: str) -> dict[str, str]:
    return {
        "BACKUP_AGE_RECIPIENT": public_key,
        "BACKUP_S3_ENDPOINT": endpoint,
        "BACKUP_S3_BUCKET": bucket.name,
        "BACKUP_S3_PREFIX": PREFIX,
        "BACKUP_S3_ACCESS_KEY_ID_FILE": "/backups/secrets/s3_access_key_id",
        "BACKUP_S3_SECRET_ACCESS_KEY_FILE": "/backups/secrets/s3_secret_access_key",
    }


def objects(bucket: Any) -> dict[str, bytes]:
    return {o.key: o.get()["Body"].read() for o in bucket.objects.filter(Prefix=f"{PREFIX}/")}


def restore_latest(
    client: Any, tmp_path: Path, target: str, env: dict[str, str], identity: str
) -> Any:
    """``restore --latest`` from a machine with no local backups, the key brought in a file."""
    fresh = tmp_path / "fresh-host"
    fresh.mkdir(exist_ok=True)
    fresh.chmod(0o777)
    (fresh / "secrets").mkdir(exist_ok=True)
    for name in ("s3_access_key_id", "s3_secret_access_key"):
        src = tmp_path / "backups" / "secrets" / name
        (fresh / "secrets" / name).write_bytes(src.read_bytes())
    (fresh / "secrets" / "identity").write_text(identity)
    for file in (fresh / "secrets").iterdir():
        file.chmod(0o644)
    return backup_tool(
        client,
        fresh,
        "restore",
        "--latest",
        url=target,
        BACKUP_AGE_IDENTITY_FILE="/backups/secrets/identity",
        **env,
    )


def test_encrypted_dump_goes_off_site_and_restore_latest_rebuilds_a_fresh_server(
    docker_client: Any,  # noqa: F811
    source_url: str,  # noqa: F811
    second_server: services.PostgresServer,  # noqa: F811
    backups: Path,  # noqa: F811
    secrets_dir: Path,
    s3_endpoint: str,
    bucket: Any,
    keys: tuple[str, str],
    tmp_path: Path,
) -> None:
    env = offsite_env(s3_endpoint, bucket, keys[1])
    # an older object: --latest must pick the newest by its time stamp, not this one
    bucket.put_object(Key=f"{PREFIX}/tgbot-20200101T000000Z.dump.age", Body=b"old")

    made = backup_tool(docker_client, backups, "backup", url=source_url, **env)
    assert made.code == 0, made.output
    assert '"event":"backup.copied_offsite"' in made.output
    local = sorted(backups.glob("tgbot-*"))
    assert len(local) == 1, local
    assert local[0].name.endswith(".dump.age")
    assert local[0].stat().st_mode & 0o777 == 0o600
    assert local[0].read_bytes().startswith(AGE_MAGIC)  # no plain dump anywhere
    assert not list(backups.glob("*.dump")) + list(backups.glob(".*partial*"))
    remote = objects(bucket)
    assert remote[f"{PREFIX}/{local[0].name}"] == local[0].read_bytes()
    metrics = (backups / "metrics" / "tgbot_backup.prom").read_text()
    assert "tgbot_backup_last_offsite 1" in metrics

    target = second_server.create_database("from_offsite")
    restored = restore_latest(docker_client, tmp_path, target, env, keys[0])
    assert restored.code == 0, restored.output
    assert local[0].name in restored.output
    assert table_fingerprints(target) == table_fingerprints(source_url)
    assert table_fingerprints(target)["public.tg_users"][0] == 40


def test_retention_is_applied_in_the_bucket_too(
    docker_client: Any,  # noqa: F811
    source_url: str,  # noqa: F811
    backups: Path,  # noqa: F811
    secrets_dir: Path,
    s3_endpoint: str,
    bucket: Any,
    keys: tuple[str, str],
) -> None:
    env = offsite_env(s3_endpoint, bucket, keys[1])
    old_days = [f"tgbot-202401{day:02d}T030000Z.dump.age" for day in range(1, 11)]
    for name in old_days:
        bucket.put_object(Key=f"{PREFIX}/{name}", Body=b"x")
    bucket.put_object(Key=f"{PREFIX}/notes.txt", Body=b"not a backup: left alone")

    made = backup_tool(
        docker_client,
        backups,
        "backup",
        url=source_url,
        BACKUP_KEEP_DAILY="3",
        BACKUP_KEEP_WEEKLY="0",
        BACKUP_KEEP_MONTHLY="0",
        **env,
    )
    assert made.code == 0, made.output
    kept = sorted(key.rsplit("/", 1)[1] for key in objects(bucket))
    new = sorted(p.name for p in backups.glob("tgbot-*"))
    # the three newest days: today's backup and the 10th and 9th of January
    assert kept == sorted([*old_days[-2:], *new, "notes.txt"]), kept
    assert '"offsite_removed":"8"' in made.output


@pytest.mark.parametrize("failure", ["wrong key", "truncated object", "empty bucket"])
def test_restore_latest_fails_clearly_and_restores_nothing(
    docker_client: Any,  # noqa: F811
    source_url: str,  # noqa: F811
    second_server: services.PostgresServer,  # noqa: F811
    backups: Path,  # noqa: F811
    secrets_dir: Path,
    s3_endpoint: str,
    bucket: Any,
    keys: tuple[str, str],
    tmp_path: Path,
    failure: str,
) -> None:
    env = offsite_env(s3_endpoint, bucket, keys[1])
    identity = keys[0]
    if failure != "empty bucket":
        made = backup_tool(docker_client, backups, "backup", url=source_url, **env)
        assert made.code == 0, made.output
    if failure == "wrong key":
        identity = keypair(docker_client)[0]
    elif failure == "truncated object":
        (key, body) = next(iter(objects(bucket).items()))
        bucket.put_object(Key=key, Body=body[: len(body) * 2 // 3])

    target = second_server.create_database(f"refused_{failure.split()[0]}")
    refused = restore_latest(docker_client, tmp_path, target, env, identity)
    expected = {
        "wrong key": (8, "cannot decrypt (wrong key, or a truncated or corrupt file)"),
        "truncated object": (8, "cannot decrypt (wrong key, or a truncated or corrupt file)"),
        "empty bucket": (7, f"no backup in s3://{bucket.name}/{PREFIX}"),
    }[failure]
    assert refused.code == expected[0], refused.output
    assert expected[1] in refused.output
    assert "nothing restored" in refused.output
    assert '"event":"restore.started"' not in refused.output
    assert table_fingerprints(target) == {}
