"""Message retention on a schedule, in every overlay and chart configuration: a daily CronJob runs
`tgadmin purge-messages` with the admin's own settings (one MESSAGE_RETENTION_DAYS for the panel and
the job), as the admin's database user, reaching only DNS and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import TARGETS, Obj, by_kind, containers, env_of, find, load_all
from tests.k8s.test_chart_values import template
from tests.k8s.test_network_egress import DNS, egress_of, ports
from tests.k8s.tools import Tools


def retention_job(objects: list[Obj]) -> Obj:
    (job,) = [
        c
        for c in by_kind(objects, "CronJob")
        if c["metadata"]["labels"]["app.kubernetes.io/component"] == "retention"
    ]
    return job


def admin_container(objects: list[Obj]) -> Obj:
    (admin,) = [
        d
        for d in by_kind(objects, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "admin"
    ]
    return dict(admin["spec"]["template"]["spec"]["containers"][0])


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)
def test_a_daily_job_purges_with_the_admins_settings(objects: list[Obj]) -> None:
    job = retention_job(objects)
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert len(job["spec"]["schedule"].split()) == 5
    pod = job["spec"]["jobTemplate"]["spec"]["template"]
    (container,) = [c for _, c in containers(pod["spec"])]
    assert [*container.get("command", []), *container.get("args", [])] == [
        "tgadmin",
        "purge-messages",
    ]
    env, admin = env_of(container, objects), env_of(admin_container(objects), objects)
    assert env["MESSAGE_RETENTION_DAYS"] == admin["MESSAGE_RETENTION_DAYS"]
    assert env["DATABASE_URL_FILE"] == admin["DATABASE_URL_FILE"]
    assert env["DATABASE_URL_FILE"].endswith("/admin-database-url")
    # Outbound: DNS and PostgreSQL, nothing else.
    rules = egress_of(objects, pod["metadata"]["labels"])
    assert rules is not None
    assert ports(rules, to_anywhere=True) == DNS | {(5432, "TCP")}
    assert ports(rules, to_anywhere=False) == set()


def test_the_charts_schedule_and_switch(tools: Tools) -> None:
    code, out = template(tools, "retention.schedule=5 4 * * 0", values="values-prod.yaml")
    assert code == 0, out
    assert retention_job(load_all(out))["spec"]["schedule"] == "5 4 * * 0"
    code, out = template(tools, "config.admin.messageRetentionDays=90", values="values-prod.yaml")
    assert code == 0, out
    env = env_of(retention_job(load_all(out))["spec"]["jobTemplate"]["spec"]["template"]["spec"][
        "containers"][0], [])  # fmt: skip
    assert env["MESSAGE_RETENTION_DAYS"] == "90"
    code, out = template(tools, "retention.enabled=false", values="values-prod.yaml")
    assert code == 0, out
    objects = load_all(out)
    assert find(objects, "CronJob", "tgbot-retention") is None
    assert find(objects, "NetworkPolicy", "tgbot-retention-egress") is None
