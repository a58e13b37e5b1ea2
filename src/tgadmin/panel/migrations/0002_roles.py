"""Roles as Django groups: operators read and reply; admins also broadcast, ban and edit texts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.management import create_permissions
from django.db import migrations

OPERATOR_PERMISSIONS = [
    "view_telegramuser",
    "view_conversation",
    "change_conversation",
    "reply_conversation",
    "view_message",
    "view_broadcast",
    "view_bottext",
    "view_outboxmessage",
]
ADMIN_PERMISSIONS = [
    *OPERATOR_PERMISSIONS,
    "ban_user",
    "add_broadcast",
    "change_broadcast",
    "delete_broadcast",
    "control_broadcast",
    "add_bottext",
    "change_bottext",
    "delete_bottext",
    "view_adminauditlog",
]
ROLES = {"operators": OPERATOR_PERMISSIONS, "admins": ADMIN_PERMISSIONS}


def create_roles(apps: Any, schema_editor: Any) -> None:
    # Permissions are normally created after all migrations; create ours now.
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
        group.permissions.set(permissions)


def drop_roles(apps: Any, schema_editor: Any) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("panel", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, drop_roles)]
