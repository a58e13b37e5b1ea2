"""Production settings: `check --deploy` is clean, and TLS mode redirects and secures cookies."""

from __future__ import annotations

import json
import subprocess

from tests.integration.admin.conftest import SECRET_KEY, base_env, tgadmin_executable

TLS_ENV = {
    "SECRET_KEY": SECRET_KEY,
    "BEHIND_TLS": "true",
    "ALLOWED_HOSTS": "admin.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://admin.example.com",
}

PROBE = """
import json
from django.test import Client
c = Client(HTTP_HOST="admin.example.com")
plain = c.get("/admin/login/")
health = c.get("/healthz")
by_ip = Client(HTTP_HOST="10.1.2.3:8000")
probe_by_ip = [by_ip.get(p).status_code for p in ("/healthz", "/readyz", "/metrics")]
page_by_ip = by_ip.get("/admin/login/", secure=True).status_code
secure = c.get("/admin/login/", secure=True)
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location", "")],
    "health": health.status_code,
    "probe_by_ip": probe_by_ip,
    "page_by_ip": page_by_ip,
    "secure": secure.status_code,
    "hsts": secure.get("Strict-Transport-Security", ""),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
}))
"""


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tgadmin_executable(), *args],
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings(admin_db_url: str) -> None:
    result = run(
        "check", "--deploy", "--fail-level", "WARNING", DATABASE_URL=admin_db_url, **TLS_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


def test_behind_tls_redirects_and_secures(admin_db_url: str, static_root: str) -> None:
    result = run(
        "shell", "-c", PROBE, DATABASE_URL=admin_db_url, STATIC_ROOT=static_root, **TLS_ENV
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://admin.example.com/admin/login/"]
    assert seen["health"] == 200  # probes speak plain HTTP inside the cluster
    assert seen["probe_by_ip"] == [200, 200, 200]  # and use the pod's address as host
    assert seen["page_by_ip"] == 400  # everything else checks ALLOWED_HOSTS
    assert seen["secure"] == 200
    assert seen["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert seen["csrf_cookie_secure"] is True


def test_no_debug_pages_in_production(admin_db_url: str, static_root: str) -> None:
    probe = (
        "from django.test import Client\n"
        "r = Client(HTTP_HOST='admin.example.com').get('/no-such-page', secure=True)\n"
        "print(r.status_code, b'Traceback' in r.content or b'URLconf' in r.content)"
    )
    result = run(
        "shell", "-c", probe, DATABASE_URL=admin_db_url, STATIC_ROOT=static_root, **TLS_ENV
    )
    assert result.stdout.strip().splitlines()[-1] == "404 False"
