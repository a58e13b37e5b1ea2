"""Admins see sign-in lockouts (django-axes) and may lift one by deleting its access attempt."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

AXES_PERMISSIONS = [
    "view_accessattempt",
    "delete_accessattempt",
    "view_accesslog",
    "view_accessfailurelog",
]


def grant(apps: Any, schema_editor: Any) -> None:
    axes = apps.get_app_config("axes")
    axes.models_module = True
    create_permissions(axes, apps=apps, verbosity=0)
    axes.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="axes", codename__in=AXES_PERMISSIONS
    )
    missing = set(AXES_PERMISSIONS) - {p.codename for p in permissions}
    if missing:
        raise RuntimeError(f"permissions not found: {sorted(missing)}")
    group, _ = Group.objects.get_or_create(name="admins")
    group.permissions.add(*permissions)


def revoke(apps: Any, schema_editor: Any) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="admins"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="axes", codename__in=AXES_PERMISSIONS
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("panel", "0006_user_tags"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
