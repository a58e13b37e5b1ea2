"""User tags (alembic 0005 creates the table): operators tag users; admins broadcast to a tag."""

from __future__ import annotations

from typing import Any

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

TAG_PERMISSIONS = ["view_usertag", "add_usertag", "delete_usertag"]


def grant(apps: Any, schema_editor: Any) -> None:
    panel = apps.get_app_config("panel")
    panel.models_module = True
    create_permissions(panel, apps=apps, verbosity=0)
    panel.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(
        content_type__app_label="panel", codename__in=TAG_PERMISSIONS
    )
    for group in Group.objects.filter(name__in=["operators", "admins"]):
        group.permissions.add(*permissions)


def revoke(apps: Any, schema_editor: Any) -> None:
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="panel", codename__in=TAG_PERMISSIONS
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("panel", "0005_outbox_uploads")]

    operations = [
        migrations.CreateModel(
            name="UserTag",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("tag", models.CharField(max_length=32, verbose_name="tag")),
                ("created_at", models.DateTimeField(verbose_name="created")),
                (
                    "user",
                    models.ForeignKey(
                        db_column="telegram_id",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tags",
                        to="panel.telegramuser",
                    ),
                ),
            ],
            options={
                "verbose_name": "tag",
                "verbose_name_plural": "tags",
                "db_table": "user_tags",
                "managed": False,
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
