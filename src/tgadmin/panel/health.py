"""``/healthz`` (the process answers) and ``/readyz`` (database, Django and alembic migrations)."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from tgadmin.panel.alembic_head import head_revisions, known_revisions
from tgbot.schema_revisions import schema_problem
from tgbot.version import VERSION


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok", "version": VERSION})


def _django_migrations() -> str:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "ok" if not plan else f"{len(plan)} Django migration(s) not applied"


def _alembic() -> str:
    heads = head_revisions()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('alembic_version') IS NOT NULL")
        row = cursor.fetchone()
        if not row or not row[0]:
            return "bot schema not migrated (no alembic_version table)"
        cursor.execute("SELECT version_num FROM alembic_version")
        current = {version for (version,) in cursor.fetchall()}
    problem = schema_problem(current, heads, known_revisions())
    return f"bot {problem}" if problem else "ok"


def readiness_checks() -> tuple[bool, dict[str, str]]:
    """Whether the panel can serve, and each check's outcome (``"ok"`` or the problem)."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
        checks["django_migrations"] = _django_migrations()
        checks["alembic"] = _alembic()
    except DatabaseError as exc:
        checks.setdefault("database", f"unavailable: {type(exc).__name__}")
    ready = all(value == "ok" for value in checks.values()) and len(checks) == 3
    return ready, checks


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    ready, checks = readiness_checks()
    return JsonResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status=200 if ready else 503,
    )
