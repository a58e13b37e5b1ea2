"""One PostgreSQL user per service (docs/security.md, "Database roles"), in every overlay and chart
configuration: each workload mounts and reads only its own database URL. The bot and the
dispatcher never receive the migrator's (owner's) URL, the admin never the bot's, the backups only
the read-only one; the release Job alone holds the migrator's URL, and hands `tgbot migrate --roles`
the three service URLs so it creates their users."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.k8s.manifests import (
    CHART_DIR,
    TARGETS,
    Obj,
    RenderError,
    Target,
    by_kind,
    containers,
    load_all,
    render,
    render_overlay_with,
    workloads,
)
from tests.k8s.tools import Tools, run

SECRETS = "/run/secrets/tgbot/"
# The database keys each workload's pods may mount, by app.kubernetes.io/component.
OWN_KEYS = {
    "bot": {"bot-database-url"},
    "dispatcher": {"bot-database-url"},
    "admin": {"admin-database-url"},
    "backup": {"backup-database-url"},
    "retention": {"admin-database-url"},
    "migrate": {"database-url", "bot-database-url", "admin-database-url", "backup-database-url"},
}
ROLE_URLS = {
    "APP_DATABASE_URL_FILE": "bot-database-url",
    "PANEL_DATABASE_URL_FILE": "admin-database-url",
    "READONLY_DATABASE_URL_FILE": "backup-database-url",
}


def component(obj: Obj) -> str:
    return str(obj["metadata"]["labels"]["app.kubernetes.io/component"])


def database_keys(pod_spec: Obj) -> set[str]:
    """The Secret keys holding a database URL that a pod mounts (direct URLs aside)."""
    return {
        item["key"]
        for volume in pod_spec.get("volumes", [])
        if "secret" in volume
        for item in volume["secret"].get("items", [])
        if item["key"].endswith("database-url")
    }


def file_env(container: Obj) -> dict[str, str]:
    """<NAME>_FILE settings of a container -> the Secret file (key) they name."""
    return {
        e["name"]: e["value"].removeprefix(SECRETS)
        for e in container.get("env", [])
        if e["name"].endswith("_FILE") and e.get("value", "").startswith(SECRETS)
    }


def expected_user(workload: Obj, container: Obj) -> str:
    """The key whose URL a container must connect with."""
    command = " ".join([*container.get("command", []), *container.get("args", [])])
    kind = component(workload)
    if kind == "migrate":
        return "bot-database-url" if "set-webhook" in command else "database-url"
    (key,) = OWN_KEYS[kind]
    return key


def app_workloads(objs: list[Obj]) -> list[tuple[Obj, Obj]]:
    return [(w, t) for w, t in workloads(objs) if component(w) in OWN_KEYS]


def check_each_service_uses_its_own_user(objs: list[Obj]) -> None:
    seen = set()
    for workload, template in app_workloads(objs):
        kind = component(workload)
        seen.add(kind)
        spec = template["spec"]
        assert database_keys(spec) == OWN_KEYS[kind], (kind, database_keys(spec))
        for _, c in containers(spec):
            env = file_env(c)
            # (Django's migrate takes the migrator's direct URL behind a pooler.)
            used = env["DATABASE_URL_FILE"].replace("-direct-url", "-url")
            assert used == expected_user(workload, c), (kind, c["name"])
            roles = {name: key for name, key in env.items() if name in ROLE_URLS}
            if kind == "migrate" and "--roles" in c.get("args", []) + c.get("command", []):
                assert roles == ROLE_URLS, c["name"]
            else:
                assert roles == {}, (kind, c["name"])
    assert {"bot", "dispatcher", "admin", "backup", "migrate", "retention"} <= seen


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_each_service_mounts_and_reads_only_its_own_database_user(
    tools: Tools, target: Target
) -> None:
    objs = render(tools, target)
    check_each_service_uses_its_own_user(objs)
    # The owner's URL: only in the release Job.
    for workload, template in workloads(objs):
        if "database-url" in database_keys(template["spec"]):
            assert component(workload) == "migrate", workload["metadata"]["name"]


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_the_bots_pods_wait_for_the_schema_instead_of_migrating(
    tools: Tools, target: Target
) -> None:
    """Their user may not migrate: their one init container only waits for the release Job."""
    for workload, template in app_workloads(render(tools, target)):
        if component(workload) in ("bot", "dispatcher"):
            (init,) = template["spec"]["initContainers"]
            assert init["args"][:1] == ["migrate"], init
            assert "--no-upgrade" in init["args"], init
            assert file_env(init)["DATABASE_URL_FILE"] == "bot-database-url"


def dev_urls(objs: list[Obj]) -> dict[str, str]:
    (secret,) = [s for s in by_kind(objs, "Secret") if "database-url" in _data(s)]
    return {k: v for k, v in _data(secret).items() if k.endswith("database-url")}


def _data(secret: Obj) -> dict[str, str]:
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    return {**data, **(secret.get("stringData") or {})}


@pytest.mark.parametrize("target", [t for t in TARGETS if t.env == "dev"], ids=lambda t: t.id)
def test_the_dev_database_comes_up_with_a_user_per_service(tools: Tools, target: Target) -> None:
    """The dev placeholders name four different users on the in-cluster PostgreSQL: the Job's
    `tgbot migrate --roles` creates the three service users with the migrator's rights."""
    urls = dev_urls(render(tools, target))
    assert set(urls) == OWN_KEYS["migrate"]
    users = {key: urlsplit(url).username for key, url in urls.items()}
    assert len(set(users.values())) == 4, users
    assert all(urlsplit(url).password for url in urls.values())
    hosts = {urlsplit(url).hostname for url in urls.values()}
    assert hosts == {"tgbot-postgres"}


def test_the_direct_url_component_keeps_the_users_apart(tools: Tools, tmp_path: Path) -> None:
    objs = render_overlay_with(tools, tmp_path, "prod", ["direct-database-url"])
    check_each_service_uses_its_own_user(objs)
    for workload, template in app_workloads(objs):
        direct = {
            item["key"]
            for v in template["spec"].get("volumes", [])
            if "secret" in v
            for item in v["secret"]["items"]
            if "direct" in item["key"]
        }
        kind = component(workload)
        wanted = {
            "bot": {"bot-database-direct-url"},
            "dispatcher": {"bot-database-direct-url"},
            "migrate": {"database-direct-url"},
        }.get(kind, set())
        assert direct == wanted, (kind, direct)


def chart(tools: Tools, *sets: str, values: str = "values-prod.yaml") -> list[Obj]:
    args = [arg for s in sets for arg in ("--set", s)]
    result = run(*tools.helm, "template", "tgbot", str(CHART_DIR), "-f",
                 str(CHART_DIR / values), *args)  # fmt: skip
    if result.returncode != 0:
        raise RenderError(result.stderr)
    return load_all(result.stdout)


def test_the_chart_with_an_existing_secret_names_the_documented_keys(tools: Tools) -> None:
    objs = chart(tools)  # values-prod.yaml: secrets.existingSecret
    check_each_service_uses_its_own_user(objs)
    assert by_kind(objs, "Secret") == []


def test_the_charts_direct_urls_keep_the_users_apart(tools: Tools) -> None:
    objs = chart(tools, "secrets.existingSecretHasDirectUrl=true")
    for workload, template in app_workloads(objs):
        for _, c in containers(template["spec"]):
            direct = file_env(c).get("DATABASE_DIRECT_URL_FILE")
            kind = component(workload)
            if kind in ("bot", "dispatcher") or "set-webhook" in c.get("command", []):
                assert direct == "bot-database-direct-url", (kind, c["name"])
            elif kind == "migrate" and "tgadmin" not in c.get("command", []):
                assert direct == "database-direct-url", c["name"]
            else:
                assert direct is None, (kind, c["name"])


def test_the_chart_can_keep_a_single_url(tools: Tools) -> None:
    """secrets.perServiceDatabaseUrls=false: an existing Secret with database-url only keeps
    working (every workload on it, no users created)."""
    objs = chart(tools, "secrets.perServiceDatabaseUrls=false")
    for _, template in workloads(objs):
        keys = database_keys(template["spec"])
        assert keys <= {"database-url"}
        for _, c in containers(template["spec"]):
            env = file_env(c)
            assert not set(env) & set(ROLE_URLS)
            if "DATABASE_URL_FILE" in env:
                assert env["DATABASE_URL_FILE"] == "database-url"


def test_the_chart_asks_for_every_service_url_and_both_direct_urls(tools: Tools) -> None:
    sets = (
        "secrets.existingSecret=",
        "secrets.databaseUrl=postgresql://u:p@pgbouncer:6432/tgbot",
        "secrets.databaseDirectUrl=postgresql://u:p@postgres:5432/tgbot",
        "secrets.redisUrl=redis://redis:6379/0",
        "secrets.telegramBotToken=123:abc",
        "secrets.webhookSecret=s3cret",
        "secrets.djangoSecretKey=a-django-key",
    )
    with pytest.raises(RenderError) as refused:
        chart(tools, *sets)
    message = str(refused.value)
    for value in ("botDatabaseUrl", "adminDatabaseUrl", "backupDatabaseUrl"):
        assert f"secrets.{value}: required unless secrets.existingSecret is set" in message
    assert "secrets.databaseDirectUrl, secrets.botDatabaseDirectUrl: set both or neither" in message
