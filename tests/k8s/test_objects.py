"""The rendered objects fit together the way a cluster needs them to: what references what
exists, probes hit real ports and endpoints, images carry the environment's tag, and every
container runs locked down."""

from __future__ import annotations

import pytest

from tests.k8s.manifests import (
    TARGETS,
    Obj,
    Target,
    app_image_of,
    by_kind,
    containers,
    env_of,
    expected_app_tags,
    find,
    image_name_and_tag,
    matches,
    matches_expressions,
    name_of,
    operator_supplied_keys,
    workloads,
)

pytestmark = pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.id)

# The process contract (docs/architecture.md): what each command serves, and where.
ENDPOINTS = {
    "serve": (8080, {"/healthz", "/readyz", "/metrics"}),
    "dispatch": (8082, {"/healthz", "/metrics"}),
    "sandbox": (8081, {"/sandbox/stats"}),
    "admin": (8000, {"/healthz", "/readyz", "/metrics"}),
}
BOT_SETTINGS = {"DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "WEBHOOK_URL"}
DISPATCHER_SETTINGS = {"DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN"}
ADMIN_SETTINGS = {
    "DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
    "ADMIN_URL_PREFIX", "BEHIND_TLS",
}  # fmt: skip
SECRET_SETTINGS = {
    "DATABASE_URL",
    "REDIS_URL",
    "TELEGRAM_BOT_TOKEN",
    "WEBHOOK_SECRET",
    "SECRET_KEY",
}


def process_of(container: Obj) -> str | None:
    """Which contract process a long-running container is: serve, dispatch, sandbox, admin."""
    app = app_image_of(container["image"])
    if app == "tgbot-admin" and not container.get("command"):
        return "admin"
    if app == "tgbot-bot" and not container.get("command"):
        args = container.get("args", ["serve"])
        return str(args[0]) if args and args[0] in ENDPOINTS else None
    return None


def app_deployments(objs: list[Obj]) -> dict[str, Obj]:
    """process -> Deployment for the long-running services."""
    out: dict[str, Obj] = {}
    for deploy in by_kind(objs, "Deployment"):
        for kind, c in containers(deploy["spec"]["template"]["spec"]):
            process = process_of(c) if kind == "main" else None
            if process:
                out[process] = deploy
    return out


def env_names(container: Obj, objs: list[Obj]) -> set[str]:
    """Settings a container receives, with <NAME>_FILE counted as NAME."""
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        ref = source.get("configMapRef")
        cm = find(objs, "ConfigMap", ref["name"]) if ref else None
        assert cm is not None or ref is None, f"envFrom ConfigMap {ref} does not exist"
        if cm:
            names |= set(cm.get("data", {}))
    return {n.removesuffix("_FILE") for n in names}


def test_every_service_selects_pods_on_existing_ports(objects: list[Obj]) -> None:
    pods = [t for _, t in workloads(objects)]
    for svc in by_kind(objects, "Service"):
        selected = [t for t in pods if matches(svc["spec"]["selector"], t["metadata"]["labels"])]
        assert selected, f"Service {name_of(svc)} selects no pod template"
        for template in selected:
            ports = {
                p.get("name"): p["containerPort"]
                for _, c in containers(template["spec"])
                for p in c.get("ports", [])
            }
            for port in svc["spec"]["ports"]:
                target = port["targetPort"]
                assert target in ports or target in ports.values(), (name_of(svc), target)


def test_every_workload_selector_matches_its_own_pods(objects: list[Obj]) -> None:
    for obj in by_kind(objects, "Deployment") + by_kind(objects, "StatefulSet"):
        labels = obj["spec"]["template"]["metadata"]["labels"]
        assert matches(obj["spec"]["selector"]["matchLabels"], labels), name_of(obj)


def test_pdbs_and_network_policies_select_real_pods(objects: list[Obj]) -> None:
    pods = [t["metadata"]["labels"] for _, t in workloads(objects)]
    for pdb in by_kind(objects, "PodDisruptionBudget"):
        assert any(matches(pdb["spec"]["selector"]["matchLabels"], p) for p in pods), name_of(pdb)
    for policy in by_kind(objects, "NetworkPolicy"):
        assert any(matches_expressions(policy["spec"]["podSelector"], p) for p in pods)
        for rule in policy["spec"].get("ingress", []):
            for peer in rule["from"]:
                if "podSelector" in peer and "namespaceSelector" not in peer:
                    assert any(matches_expressions(peer["podSelector"], p) for p in pods), name_of(
                        policy
                    )


def test_ingress_backends_and_hpa_targets_exist(objects: list[Obj]) -> None:
    (ingress,) = by_kind(objects, "Ingress")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            svc = find(objects, "Service", backend["name"])
            assert svc is not None, backend
            port = backend["port"]
            assert any(
                p.get("name") == port.get("name") or p["port"] == port.get("number")
                for p in svc["spec"]["ports"]
            ), backend
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    for hpa in hpas:
        ref = hpa["spec"]["scaleTargetRef"]
        deploy = find(objects, ref["kind"], ref["name"])
        assert deploy is not None, ref
        # A fixed replica count would fight the autoscaler on every apply.
        assert "replicas" not in deploy["spec"], ref["name"]


def test_only_the_webhook_and_the_admin_site_are_public(objects: list[Obj]) -> None:
    (ingress,) = by_kind(objects, "Ingress")
    routes = {
        (p["backend"]["service"]["name"].rsplit("-", 1)[-1], p["path"], p["pathType"])
        for r in ingress["spec"]["rules"] for p in r["http"]["paths"]
    }  # fmt: skip
    admin = app_deployments(objects)["admin"]["spec"]["template"]["spec"]["containers"][0]
    prefix = env_of(admin, objects)["ADMIN_URL_PREFIX"]

    assert routes == {
        ("bot", "/telegram/webhook", "Exact"),
        ("admin", f"/{prefix}", "Prefix"),
        ("admin", "/static/", "Prefix"),
        ("admin", "/i18n/", "Prefix"),  # the language switch every page posts to
        ("admin", "/", "Exact"),  # redirects to the admin site
    }


def test_referenced_secrets_and_configmaps_exist_or_are_documented(objects: list[Obj]) -> None:
    documented = operator_supplied_keys()
    rendered: dict[tuple[str, str], set[str]] = {}
    for kind in ("Secret", "ConfigMap"):
        for obj in by_kind(objects, kind):
            keys = set(obj.get("data", {})) | set(obj.get("stringData", {}))
            rendered[(kind, name_of(obj))] = keys

    def check(kind: str, name: str, key: str | None) -> None:
        keys = rendered.get((kind, name))
        if keys is not None:
            assert key is None or key in keys, f"{kind} {name} has no key {key}"
        else:
            assert kind == "Secret", f"ConfigMap {name} is neither rendered nor documented"
            wanted = {(name, key)} if key else {(name, k) for n, k in documented if n == name}
            assert wanted, f"Secret {name} is neither rendered nor documented"
            assert wanted <= documented, (
                f"Secret {name} key {key} is not rendered and not documented as supplied by "
                "the operator in docs/kubernetes.md"
            )

    for _, template in workloads(objects):
        spec = template["spec"]
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                for item in volume["secret"].get("items") or [{"key": None}]:
                    check("Secret", volume["secret"]["secretName"], item["key"])
            if "configMap" in volume:
                for item in volume["configMap"].get("items") or [{"key": None}]:
                    check("ConfigMap", volume["configMap"]["name"], item["key"])
        for _, c in containers(spec):
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    check("ConfigMap", source["configMapRef"]["name"], None)
                if "secretRef" in source:
                    check("Secret", source["secretRef"]["name"], None)
            for item in c.get("env", []):
                ref = item.get("valueFrom", {})
                if "secretKeyRef" in ref:
                    name, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
                    if ref["secretKeyRef"].get("optional") and key not in rendered.get(
                        ("Secret", name), set()
                    ):
                        # An optional key (e.g. sentry-dsn) may be absent; the docs name it.
                        assert key in {k for _, k in documented}, f"optional {key} undocumented"
                    else:
                        check("Secret", name, key)
                if "configMapKeyRef" in ref:
                    check(
                        "ConfigMap", ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
                    )
    for ingress in by_kind(objects, "Ingress"):
        for tls in ingress["spec"].get("tls", []):
            check("Secret", tls["secretName"], "tls.crt")


def test_secret_files_are_mounted_where_the_settings_point(objects: list[Obj]) -> None:
    for _, template in workloads(objects):
        spec = template["spec"]
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for _, c in containers(spec):
            # volumeClaimTemplates volumes are not in the pod spec: {} for them.
            mounts = {m["mountPath"]: volumes.get(m["name"], {}) for m in c.get("volumeMounts", [])}
            for item in c.get("env", []):
                if not item["name"].endswith("_FILE"):
                    continue
                directory, _, filename = item["value"].rpartition("/")
                volume = mounts.get(directory)
                assert volume is not None, (c["name"], item)
                assert "secret" in volume, (c["name"], item)
                items = volume["secret"].get("items")
                assert items is None or filename in {i["path"] for i in items}, (c["name"], item)
            # Secrets never travel as literal environment values.
            literal = {e["name"] for e in c.get("env", []) if "value" in e}
            assert not literal & SECRET_SETTINGS, (c["name"], literal & SECRET_SETTINGS)


def test_services_get_the_settings_their_contract_needs(objects: list[Obj]) -> None:
    deployments = app_deployments(objects)
    needs = {"serve": BOT_SETTINGS, "dispatch": DISPATCHER_SETTINGS, "admin": ADMIN_SETTINGS}
    for process, required in needs.items():
        spec = deployments[process]["spec"]["template"]["spec"]
        main = next(c for kind, c in containers(spec) if kind == "main" and process_of(c))
        assert required <= env_names(main, objects), (process, required - env_names(main, objects))


def test_probes_hit_real_ports_and_endpoints(objects: list[Obj]) -> None:
    deployments = app_deployments(objects)
    assert {"serve", "dispatch", "admin"} <= set(deployments)
    for process, deploy in deployments.items():
        port_number, paths = ENDPOINTS[process]
        for kind, c in containers(deploy["spec"]["template"]["spec"]):
            if kind != "main":
                continue
            ports = {p["name"]: p["containerPort"] for p in c["ports"]}
            assert port_number in ports.values(), (process, ports)
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                get = c[probe]["httpGet"]
                port = ports.get(get["port"], get["port"])
                assert port == port_number, (process, probe, get)
                assert get["path"] in paths, (process, probe, get)
            assert c["livenessProbe"]["httpGet"]["path"] == c["startupProbe"]["httpGet"]["path"]
    for process in ("serve", "admin"):
        main = deployments[process]["spec"]["template"]["spec"]["containers"][0]
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_other_probes_use_declared_ports(objects: list[Obj]) -> None:
    for _, template in workloads(objects):
        for _, c in containers(template["spec"]):
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                action = c.get(probe, {})
                for handler in ("httpGet", "tcpSocket"):
                    if handler in action:
                        port = action[handler]["port"]
                        assert port in ports or port in ports.values(), (c["name"], probe)


def test_images_carry_the_environments_tag(target: Target, objects: list[Obj]) -> None:
    tags = expected_app_tags(target)
    seen = set()
    for _, template in workloads(objects):
        for _, c in containers(template["spec"]):
            _, tag = image_name_and_tag(c["image"])
            assert tag not in (None, "latest"), c["image"]
            app = app_image_of(c["image"])
            if app:
                seen.add(app)
                assert tag == tags[app], (c["name"], c["image"], tags[app])
    assert seen == {"tgbot-bot", "tgbot-admin", "tgbot-backup"}


def test_every_pod_and_container_is_locked_down(objects: list[Obj]) -> None:
    for workload, template in workloads(objects):
        spec = template["spec"]
        where = f"{workload['kind']}/{name_of(workload)}"
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True, where
        assert pod_sc["seccompProfile"]["type"] == "RuntimeDefault", where
        assert pod_sc.get("runAsUser", 1) != 0, where
        assert spec["automountServiceAccountToken"] is False, where
        for kind, c in containers(spec):
            sc = c["securityContext"]
            at = f"{where} {kind} container {c['name']}"
            assert sc["allowPrivilegeEscalation"] is False, at
            assert sc["readOnlyRootFilesystem"] is True, at
            assert sc["capabilities"]["drop"] == ["ALL"], at
            assert not sc["capabilities"].get("add"), at
            assert sc.get("runAsNonRoot", True) is True, at
            assert sc.get("privileged", False) is False, at
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), at
            if app_image_of(c["image"]):
                assert any(m["mountPath"] == "/tmp" for m in c["volumeMounts"]), at
                assert pod_sc["runAsUser"] == 10001, at


def test_webhook_url_is_the_https_route_to_the_bot(target: Target, objects: list[Obj]) -> None:
    """Telegram posts to WEBHOOK_URL: it must be HTTPS on a TLS host the Ingress routes to the
    bot, at the path the bot serves (the sandbox of dev posts inside the cluster instead)."""
    bot = app_deployments(objects)["serve"]["spec"]["template"]["spec"]["containers"][0]
    env = env_of(bot, objects)
    if target.env == "dev":
        assert env["WEBHOOK_URL"].startswith("http://"), env["WEBHOOK_URL"]
        return
    (ingress,) = by_kind(objects, "Ingress")
    routes = {
        f"https://{rule['host']}{p['path']}"
        for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]
        if p["backend"]["service"]["name"].endswith("-bot") and p["pathType"] == "Exact"
        and any(rule["host"] in block["hosts"] for block in ingress["spec"].get("tls", []))
    }  # fmt: skip

    assert routes == {env["WEBHOOK_URL"]}
    assert env["WEBHOOK_URL"].endswith(env.get("WEBHOOK_PATH", "/telegram/webhook"))


def test_admin_metrics_sum_every_worker(objects: list[Obj]) -> None:
    """gunicorn runs several workers: without prometheus-client's multiprocess directory each
    scrape reports one worker's counters. It must be on the writable /tmp volume."""
    admin = app_deployments(objects)["admin"]["spec"]["template"]["spec"]["containers"][0]
    directory = env_of(admin, objects).get("PROMETHEUS_MULTIPROC_DIR", "")

    assert directory.startswith("/tmp/"), directory
    assert any(m["mountPath"] == "/tmp" and not m.get("readOnly") for m in admin["volumeMounts"])


def test_drains_never_wait_on_unhealthy_pods(objects: list[Obj]) -> None:
    """A budget counting a crash-looping pod blocks every node drain; such a pod may go."""
    budgets = by_kind(objects, "PodDisruptionBudget")
    assert budgets
    for pdb in budgets:
        assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow", name_of(pdb)


def test_rollouts_keep_capacity_and_drain(objects: list[Obj]) -> None:
    for process, deploy in app_deployments(objects).items():
        if process == "sandbox":  # development only, one replica
            continue
        spec = deploy["spec"]
        assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, process
        pod = spec["template"]["spec"]
        spreads = pod["topologySpreadConstraints"]
        keys = {s["topologyKey"] for s in spreads}
        assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= keys, process
        zone = next(s for s in spreads if s["topologyKey"] == "topology.kubernetes.io/zone")
        # Nodes without a zone label (single-zone clusters) must not block scheduling.
        assert zone["whenUnsatisfiable"] == "ScheduleAnyway", process
        if process in ("serve", "admin"):
            main = pod["containers"][0]
            pause = main["lifecycle"]["preStop"]["sleep"]["seconds"]
            env = env_of(main, objects)
            drain = int(env.get("SHUTDOWN_DRAIN_SECONDS", "6")) + int(
                env.get("SHUTDOWN_GRACE_SECONDS", "25")
            )
            assert pod["terminationGracePeriodSeconds"] > pause + drain, process


def test_migrations_run_before_new_pods_serve(target: Target, objects: list[Obj]) -> None:
    jobs = [j for j in by_kind(objects, "Job") if "-migrate" in name_of(j)]
    assert len(jobs) == 1
    job = jobs[0]
    steps = [
        " ".join([*c.get("command", []), *c.get("args", [])])
        for _, c in containers(job["spec"]["template"]["spec"])
    ]
    assert "migrate --wait" in steps[0], steps
    assert "tgadmin migrate" in steps[1], steps
    assert "set-webhook" in steps[-1], steps
    if target.kind == "chart":
        hook = job["metadata"]["annotations"]["helm.sh/hook"]
        dev_db_in_release = bool(by_kind(objects, "StatefulSet"))
        assert "pre-upgrade" in hook
        # A release that brings its own database can only migrate after installing it.
        assert "pre-install" in hook or (dev_db_in_release and "post-install" in hook), hook
    else:
        # A Job's pod template is immutable: each release is a Job of its own, named after it,
        # so `kubectl apply -k` never has to delete the previous one first.
        tag = expected_app_tags(target)["tgbot-bot"]
        assert name_of(job) == f"tgbot-migrate-{tag}"
        assert job["spec"]["ttlSecondsAfterFinished"] > 0
        for process, deploy in app_deployments(objects).items():
            if process in ("serve", "dispatch"):
                init = deploy["spec"]["template"]["spec"]["initContainers"]
                assert any("migrate" in [*c.get("command", []), *c.get("args", [])] for c in init)


def test_django_migrations_run_only_in_the_release_job(objects: list[Obj]) -> None:
    """Django's migrate takes no lock: in every admin pod it races on a first install."""
    for workload, template in workloads(objects):
        for _, c in containers(template["spec"]):
            command = " ".join([*c.get("command", []), *c.get("args", [])])
            if "tgadmin migrate" in command or (
                app_image_of(c["image"]) == "tgbot-admin" and "migrate" in c.get("args", [])
            ):
                assert workload["kind"] == "Job", name_of(workload)
                assert "-migrate" in name_of(workload)


def test_environment_shape(target: Target, objects: list[Obj]) -> None:
    statefulsets = {name_of(s) for s in by_kind(objects, "StatefulSet")}
    processes = set(app_deployments(objects))
    if target.env == "dev":
        assert statefulsets == {"tgbot-postgres", "tgbot-redis"}
        for sts in by_kind(objects, "StatefulSet"):
            assert sts["spec"]["volumeClaimTemplates"], name_of(sts)
        assert "sandbox" in processes
    else:
        assert statefulsets == set()
        assert "sandbox" not in processes
        (ingress,) = by_kind(objects, "Ingress")
        assert ingress["spec"]["tls"], "staging and prod terminate TLS at the ingress"
    # The nightly backup, and the daily message retention (the admin image's purge-messages).
    schedules = by_kind(objects, "CronJob")
    assert sorted(
        (app_image_of(c["image"]), " ".join([*c.get("command", []), *c.get("args", [])]))
        for b in schedules
        for _, c in containers(b["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    ) == [("tgbot-admin", "tgadmin purge-messages"), ("tgbot-backup", "backup")]


def test_a_dev_django_key_is_marked_insecure_and_runs_only_with_debug(
    objects: list[Obj], target: Target
) -> None:
    """The dev secrets' Django key starts with django-insecure-, so the admin's own check refuses
    it anywhere DEBUG is off; the dev deployments turn DEBUG on, staging and prod never do."""
    import base64

    from tgadmin.config import secret_key_problem

    keys = []
    for secret in by_kind(objects, "Secret"):
        if "django-secret-key" in secret.get("data", {}):
            keys.append(base64.b64decode(secret["data"]["django-secret-key"]).decode())
        if "django-secret-key" in secret.get("stringData", {}):
            keys.append(secret["stringData"]["django-secret-key"])
    admin = app_deployments(objects)["admin"]
    [(_, container)] = [c for c in containers(admin["spec"]["template"]["spec"]) if c[0] == "main"]
    debug = env_of(container, objects).get("DEBUG", "false")
    if target.env == "dev":
        [key] = keys  # the placeholder the component or the chart's dev mode makes
        assert key.startswith("django-insecure-")
        assert (
            secret_key_problem(key) == "is Django's generated development key; generate a new one"
        )
        assert debug == "true"
    else:
        assert keys == []  # the operator's Secret
        assert debug != "true"
