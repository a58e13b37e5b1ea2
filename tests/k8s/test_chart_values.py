"""The chart's values: every value documented and in the schema, bad values refused with
readable messages, and secrets handled the way the docs say."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.k8s.manifests import CHART_DIR, by_kind, containers, find, load_all, workloads
from tests.k8s.tools import Tools, run

VALUES_TEXT = (CHART_DIR / "values.yaml").read_text()
VALUES = yaml.safe_load(VALUES_TEXT)
SCHEMA = json.loads((CHART_DIR / "values.schema.json").read_text())
# Maps whose keys belong to the user (labels, annotations, Kubernetes objects) end a path.
FREE_FORM = ("resources", "podSecurityContext", "containerSecurityContext")
ALL_SECRETS = (
    "secrets.databaseUrl=postgresql://u:p@db:5432/tgbot",
    "secrets.botDatabaseUrl=postgresql://bot:pb@db:5432/tgbot",
    "secrets.adminDatabaseUrl=postgresql://admin:pa@db:5432/tgbot",
    "secrets.backupDatabaseUrl=postgresql://backup:pr@db:5432/tgbot",
    "secrets.redisUrl=redis://redis:6379/0",
    "secrets.telegramBotToken=123:abc",
    "secrets.webhookSecret=s3cret",
    "secrets.djangoSecretKey=dev-only-key",
)


def leaves(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict) and node and not prefix.endswith(FREE_FORM):
        for key, value in node.items():
            yield from leaves(value, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix


def template(tools: Tools, *sets: str, values: str | None = None) -> tuple[int, str]:
    args = [*tools.helm, "template", "tgbot", str(CHART_DIR)]
    if values:
        args += ["-f", str(CHART_DIR / values)]
    for s in sets:
        args += ["--set", s]
    result = run(*args)
    return result.returncode, result.stdout if result.returncode == 0 else result.stderr


def test_every_value_is_documented_and_every_doc_names_a_value() -> None:
    documented = set(re.findall(r"^\s*## @param (\S+) ", VALUES_TEXT, re.M))
    values = set(leaves(VALUES))

    assert values - documented == set(), "values without a ## @param line"
    assert documented - values == set(), "## @param lines naming no value"


def test_the_schema_knows_every_value() -> None:
    for path in leaves(VALUES):
        node = SCHEMA
        for part in path.split("."):
            node = node["properties"][part]
        assert "type" in node, path
        assert node.get("description"), path


def test_unknown_and_bad_values_are_refused(tools: Tools) -> None:
    code, err = template(tools, "bogus=1", values="values-prod.yaml")
    assert code != 0
    assert "bogus" in err

    code, err = template(tools, "config.logLevel=LOUD", values="values-prod.yaml")
    assert code != 0
    assert "logLevel" in err


def test_missing_settings_are_all_listed_at_once(tools: Tools) -> None:
    code, err = template(tools)

    assert code != 0
    for name in (
        "ingress.tls",  # the webhook URL is https://<bot host><path>: TLS must cover the host
        "secrets.databaseUrl",
        "secrets.redisUrl",
        "secrets.telegramBotToken",
        "secrets.webhookSecret",
        "secrets.djangoSecretKey",
    ):
        assert name in err, name


def test_an_existing_secret_is_used_and_none_is_created(tools: Tools) -> None:
    code, out = template(tools, values="values-prod.yaml")
    assert code == 0, out
    objs = load_all(out)

    assert by_kind(objs, "Secret") == []
    names = {
        v["secret"]["secretName"]
        for _, t in workloads(objs) for v in t["spec"].get("volumes", []) if "secret" in v
    }  # fmt: skip
    assert names == {"tgbot-secrets"}


def test_secrets_from_values_become_a_hook_secret_the_migrations_can_read(tools: Tools) -> None:
    code, out = template(tools, "ingress.tls[0].hosts[0]=bot.example.com", *ALL_SECRETS)
    assert code == 0, out
    objs = load_all(out)

    secret = find(objs, "Secret", "tgbot")
    assert secret is not None
    assert set(secret["stringData"]) == {
        "database-url", "bot-database-url", "admin-database-url", "backup-database-url",
        "redis-url", "telegram-bot-token", "webhook-secret", "django-secret-key",
    }  # fmt: skip
    assert secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    job = find(objs, "Job", "tgbot-migrate")
    assert job is not None
    assert int(secret["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"]
    )


@pytest.mark.parametrize(
    ("sets", "absent"),
    [
        (
            ("ingress.enabled=false", "config.webhookUrl=https://lb.example.com/telegram/webhook"),
            "Ingress",
        ),
        (("networkPolicy.enabled=false",), "NetworkPolicy"),
        (("backup.enabled=false", "retention.enabled=false"), "CronJob"),
        (("bot.hpa.enabled=false", "admin.hpa.enabled=false"), "HorizontalPodAutoscaler"),
    ],
)
def test_optional_parts_switch_off(tools: Tools, sets: tuple[str, ...], absent: str) -> None:
    code, out = template(tools, *sets, values="values-prod.yaml")
    assert code == 0, out
    objs = load_all(out)

    assert by_kind(objs, absent) == []
    if absent == "HorizontalPodAutoscaler":
        bot = find(objs, "Deployment", "tgbot-bot")
        assert bot is not None
        assert bot["spec"]["replicas"] == VALUES["bot"]["replicaCount"]


def test_extra_env_reaches_every_application_container(tools: Tools) -> None:
    code, out = template(
        tools, "extraEnv[0].name=TZ", "extraEnv[0].value=UTC", values="values-prod.yaml"
    )
    assert code == 0, out

    for workload, tpl in workloads(load_all(out)):
        for _, c in containers(tpl["spec"]):
            if "tgbot-" in c["image"] and workload["kind"] != "CronJob":
                assert {"name": "TZ", "value": "UTC"} in c["env"], c["name"]


def bot_env(objs: list[dict[str, Any]]) -> dict[str, str]:
    bot = find(objs, "Deployment", "tgbot-bot")
    assert bot is not None
    return {
        e["name"]: e.get("value", "")
        for e in bot["spec"]["template"]["spec"]["containers"][0]["env"]
    }


def test_webhook_url_is_the_https_route_of_the_ingress(tools: Tools) -> None:
    code, out = template(
        tools, "ingress.bot.host=hooks.example.org", "config.webhookPath=/tg/abc",
        "ingress.tls[0].hosts[0]=hooks.example.org", values="values-prod.yaml",
    )  # fmt: skip
    assert code == 0, out
    objs = load_all(out)
    (ingress,) = by_kind(objs, "Ingress")
    routes = [
        (rule["host"], p["path"]) for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"] if p["backend"]["service"]["name"] == "tgbot-bot"
    ]  # fmt: skip

    assert routes == [("hooks.example.org", "/tg/abc")]
    assert bot_env(objs)["WEBHOOK_URL"] == "https://hooks.example.org/tg/abc"
    assert bot_env(objs)["WEBHOOK_PATH"] == "/tg/abc"
    assert any("hooks.example.org" in block["hosts"] for block in ingress["spec"]["tls"])


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        # Telegram posts only to HTTPS: the schema refuses anything else.
        (
            ("ingress.enabled=false", "config.webhookUrl=http://bot.example.com/telegram/webhook"),
            "webhookUrl",
        ),
        # A second value beside the Ingress could disagree with the route.
        (
            ("config.webhookUrl=https://bot.example.com/telegram/webhook",),
            "config.webhookUrl: leave it empty with the Ingress",
        ),
        # No TLS on the bot's host: no HTTPS URL to register.
        (("ingress.tls[0].hosts[0]=admin.example.com",), "ingress.tls: no TLS block covers"),
        # Without the Ingress the URL must end in the path the bot serves.
        (
            ("ingress.enabled=false", "config.webhookUrl=https://lb.example.com/other"),
            "its path must be config.webhookPath",
        ),
        (("ingress.enabled=false",), "config.webhookUrl: set the public HTTPS URL"),
    ],
)
def test_webhook_urls_that_cannot_work_are_refused(
    tools: Tools, sets: tuple[str, ...], message: str
) -> None:
    code, err = template(tools, *sets, values="values-prod.yaml")

    assert code != 0
    assert message in err


def test_backups_outlive_the_release(tools: Tools) -> None:
    code, out = template(tools, values="values-prod.yaml")
    assert code == 0, out

    pvc = find(load_all(out), "PersistentVolumeClaim", "tgbot-backups")
    assert pvc is not None
    assert pvc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_the_migration_hook_runs_under_its_own_service_account(tools: Tools) -> None:
    """The release's ServiceAccount does not exist yet when a pre-install hook runs."""
    for values in ("values-prod.yaml", "values-dev.yaml"):
        code, out = template(tools, values=values)
        assert code == 0, out
        objs = load_all(out)
        job = find(objs, "Job", "tgbot-migrate")
        assert job is not None
        name = job["spec"]["template"]["spec"]["serviceAccountName"]
        account = find(objs, "ServiceAccount", name)

        assert name == "tgbot-migrate"
        assert account is not None
        assert account["automountServiceAccountToken"] is False
        hooks = account["metadata"]["annotations"]
        assert hooks["helm.sh/hook"] == job["metadata"]["annotations"]["helm.sh/hook"]
        assert int(hooks["helm.sh/hook-weight"]) < int(
            job["metadata"]["annotations"]["helm.sh/hook-weight"]
        )


def test_pod_options_reach_every_application_pod(tools: Tools) -> None:
    code, out = template(
        tools,
        "podAnnotations.example\\.com/team=support",
        "priorityClassName=tgbot-high",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].key=pool",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0].matchExpressions[0].operator=Exists",
        "extraVolumes[0].name=corp-ca",
        "extraVolumes[0].configMap.name=corp-ca",
        "extraVolumeMounts[0].name=corp-ca",
        "extraVolumeMounts[0].mountPath=/etc/ssl/corp",
        values="values-prod.yaml",
    )
    assert code == 0, out
    pods = [(w, t) for w, t in workloads(load_all(out))]
    assert {w["kind"] for w, _ in pods} == {"Deployment", "Job", "CronJob"}

    for workload, tpl in pods:
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = tpl["spec"]
        assert tpl["metadata"]["annotations"]["example.com/team"] == "support", where
        assert spec["priorityClassName"] == "tgbot-high", where
        assert "nodeAffinity" in spec["affinity"], where
        assert {"name": "corp-ca", "configMap": {"name": "corp-ca"}} in spec["volumes"], where
        for _, c in containers(spec):
            assert {"name": "corp-ca", "mountPath": "/etc/ssl/corp"} in c["volumeMounts"], where


def test_chart_readme_is_generated_from_the_current_values() -> None:
    script = CHART_DIR.parents[1] / "scripts" / "gen_chart_readme.py"
    result = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stdout + result.stderr
    readme = (CHART_DIR / "README.md").read_text()
    for path in leaves(VALUES):
        assert f"| `{path}` |" in readme, path


def test_a_changed_secret_rolls_the_pods(tools: Tools) -> None:
    """Pods read secrets at start only: a rotated secret must change their template."""

    def checksums(webhook_secret: str) -> dict[str, str]:
        sets = [s for s in ALL_SECRETS if not s.startswith("secrets.webhookSecret=")]
        code, out = template(
            tools, "ingress.tls[0].hosts[0]=bot.example.com", *sets,
            f"secrets.webhookSecret={webhook_secret}",
        )  # fmt: skip
        assert code == 0, out
        return {
            w["metadata"]["name"]: t["metadata"]["annotations"]["checksum/secrets"]
            for w, t in workloads(load_all(out)) if w["kind"] == "Deployment"
        }  # fmt: skip

    first, same, rotated = checksums("old-secret"), checksums("old-secret"), checksums("new-one")

    assert set(first) == {"tgbot-bot", "tgbot-dispatcher", "tgbot-admin"}
    assert first == same
    assert all(rotated[name] != first[name] for name in first)
    assert not any("old-secret" in value or "new-one" in value for value in rotated.values())


def test_webhook_can_be_limited_to_telegrams_source_ranges(tools: Tools) -> None:
    telegram = ["149.154.160.0/20", "91.108.4.0/22"]
    code, out = template(
        tools, f"ingress.bot.sourceRanges={{{','.join(telegram)}}}", values="values-prod.yaml"
    )
    assert code == 0, out
    objs = load_all(out)
    ingresses = {i["metadata"]["name"]: i for i in by_kind(objs, "Ingress")}

    assert set(ingresses) == {"tgbot", "tgbot-bot"}
    bot, admin = ingresses["tgbot-bot"], ingresses["tgbot"]
    allowed = bot["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
    assert allowed.split(",") == telegram
    assert [r["host"] for r in bot["spec"]["rules"]] == ["bot.example.com"]
    assert [p["path"] for p in bot["spec"]["rules"][0]["http"]["paths"]] == ["/telegram/webhook"]
    # The admin stays reachable from anywhere its own settings allow.
    assert [r["host"] for r in admin["spec"]["rules"]] == ["admin.example.com"]
    assert "nginx.ingress.kubernetes.io/whitelist-source-range" not in admin["metadata"].get(
        "annotations", {}
    )
    assert bot_env(objs)["WEBHOOK_URL"] == "https://bot.example.com/telegram/webhook"


PLACEHOLDER_REFUSED = "while sandbox.enabled is false (the real Telegram): set real secrets"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("telegramBotToken=123456:dev-sandbox-token", "telegram-bot-token"),
        ("webhookSecret=dev-webhook-secret", "webhook-secret"),
        ("djangoSecretKey=django-insecure-development-only-key-do-not-use", "django-secret-key"),
        ("djangoSecretKey=change-me", "django-secret-key"),
        ("botDatabaseUrl=postgresql://tgbot_bot:tgbot-bot-dev@db:5432/tgbot", "bot-database-url"),
        ("redisUrl=redis://:dev-redis-password@redis:6379/0", "redis-url"),
    ],
)
def test_a_dev_placeholder_with_the_real_telegram_is_refused(
    tools: Tools, value: str, key: str
) -> None:
    real = [s for s in ALL_SECRETS if not s.startswith(f"secrets.{value.split('=')[0]}=")]
    tls = "ingress.tls[0].hosts[0]=bot.example.com"
    code, err = template(tools, tls, *real, f"secrets.{value}")
    assert code != 0
    (line,) = [line for line in err.splitlines() if PLACEHOLDER_REFUSED in line]
    assert line.startswith(f"secrets: development placeholders in {key} while")
    # The same values with the sandbox (development) render, and without the placeholder too.
    code, out = template(tools, tls, *real, f"secrets.{value}", "sandbox.enabled=true")
    assert code == 0, out
    code, out = template(tools, tls, *ALL_SECRETS)
    assert code == 0, out


def test_the_dev_values_need_the_sandbox(tools: Tools) -> None:
    """values-dev.yaml fills every secret with a placeholder: fine with the sandbox, refused with
    the real Telegram, every placeholder named in one line."""
    code, out = template(tools, values="values-dev.yaml")
    assert code == 0, out
    code, err = template(tools, "sandbox.enabled=false", values="values-dev.yaml")
    assert code != 0
    (line,) = [line for line in err.splitlines() if PLACEHOLDER_REFUSED in line]
    named = line.removeprefix("secrets: development placeholders in ").split(" while ")[0]
    assert named.split(", ") == [
        "admin-database-url", "backup-database-url", "bot-database-url", "database-url",
        "django-secret-key", "telegram-bot-token", "webhook-secret",
    ]  # fmt: skip
    # Django's DEBUG (which the dev values' django-insecure- key needs) is refused there too.
    assert "config.admin.debug: development only (Django DEBUG); not with the real Telegram" in err


def test_django_debug_is_refused_with_the_real_telegram(tools: Tools) -> None:
    tls = "ingress.tls[0].hosts[0]=bot.example.com"
    code, out = template(tools, tls, *ALL_SECRETS)
    assert code == 0, out
    code, err = template(tools, tls, *ALL_SECRETS, "config.admin.debug=true")
    assert code != 0
    assert "config.admin.debug: development only (Django DEBUG)" in err


def test_the_pod_grace_period_must_cover_the_pause_the_drain_and_the_grace(tools: Tools) -> None:
    """After preStop the bot gets SIGTERM, drains, then finishes in-flight updates: 5 + 6 + 25."""
    timing = ("bot.preStopSleepSeconds=5", "config.shutdownGraceSeconds=25")
    code, err = template(
        tools, *timing, "bot.terminationGracePeriodSeconds=36", values="values-prod.yaml"
    )
    assert code != 0
    assert "must exceed bot.preStopSleepSeconds + config.shutdownDrainSeconds" in err

    code, out = template(
        tools, *timing, "bot.terminationGracePeriodSeconds=37", values="values-prod.yaml"
    )
    assert code == 0, out
    code, out = template(
        tools,
        *timing,
        "config.shutdownDrainSeconds=0",
        "bot.terminationGracePeriodSeconds=31",
        values="values-prod.yaml",
    )
    assert code == 0, out


@pytest.mark.parametrize("value", ["config.staffChatId=-1001234567890"])
def test_the_staff_group_reaches_bot_and_dispatcher(tools: Tools, value: str) -> None:
    code, out = template(tools, value, values="values-prod.yaml")
    assert code == 0, out
    objs = load_all(out)
    env = bot_env(objs)
    assert env["STAFF_CHAT_ID"] == "-1001234567890"
    assert env["PANEL_PUBLIC_URL"].startswith("https://")
    assert env["PANEL_PUBLIC_URL"].endswith("/admin/")
    assert env["OUTBOX_GROUP_RATE_PER_MINUTE"] == "20"
    code, out = template(tools, values="values-prod.yaml")
    assert "STAFF_CHAT_ID" not in bot_env(load_all(out))
    code, out = template(tools, "config.staffChatId=12345", values="values-prod.yaml")
    assert code != 0  # not a supergroup id
