"""The inbox's permissions for the roles: operators write notes and read canned answers; admins
also manage canned answers."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = ["view_conversationnote", "add_conversationnote", "view_cannedanswer"]
ADMIN_PERMISSIONS = [
    *OPERATOR_PERMISSIONS,
    "add_cannedanswer",
    "change_cannedanswer",
    "delete_cannedanswer",
]
ROLES = {"operators": OPERATOR_PERMISSIONS, "admins": ADMIN_PERMISSIONS}


def grant(apps: Any, schema_editor: Any) -> None:
    panel = apps.get_app_config("panel")
    panel.models_module = True
    create_permissions(panel, apps=apps, verbosity=0)
    panel.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(
            content_type__app_label="panel", codename__in=codenames
        )
        missing = set(codenames) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"permissions not found: {sorted(missing)}")
        group.permissions.add(*permissions)


def revoke(apps: Any, schema_editor: Any) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="panel", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("panel", "0003_inbox")]

    operations = [migrations.RunPython(grant, revoke)]
