"""``tgadmin ensure-superuser``: create or update a superuser from the environment, idempotently.

ADMIN_USERNAME, ADMIN_PASSWORD (or ADMIN_PASSWORD_FILE) and ADMIN_EMAIL (optional).
ADMIN_SHOW_PASSWORD=true prints the password when the user is created, only under DEBUG.
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from pydantic import ValidationError

from tgadmin.config import SuperuserSettings
from tgbot.config.sources import FileSecretError, describe_errors


class Command(BaseCommand):
    help = "Create or update a superuser from ADMIN_USERNAME, ADMIN_PASSWORD[_FILE], ADMIN_EMAIL."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            wanted = SuperuserSettings()
        except (ValidationError, FileSecretError) as exc:
            for line in describe_errors(exc, prefix="ADMIN_"):
                print(line, file=sys.stderr)
            raise SystemExit(2) from None
        password = wanted.password.get_secret_value()
        user_model = get_user_model()
        with transaction.atomic():
            user, created = user_model.objects.select_for_update().get_or_create(
                **{user_model.USERNAME_FIELD: wanted.username},
                defaults={"email": wanted.email, "is_staff": True, "is_superuser": True},
            )
            changed = created
            for attribute, value in (
                ("email", wanted.email),
                ("is_staff", True),
                ("is_superuser", True),
                ("is_active", True),
            ):
                if getattr(user, attribute) != value:
                    setattr(user, attribute, value)
                    changed = True
            if created or not user.check_password(password):
                user.set_password(password)
                changed = True
            if changed:
                user.save()
        state = "created" if created else ("updated" if changed else "unchanged")
        self.stdout.write(f"superuser {wanted.username}: {state}")
        if created and wanted.show_password and settings.DEBUG:
            # Development only: the dev profile's placeholder password, shown the one time the
            # user is made so that `docker compose logs admin-migrate` tells how to log in.
            self.stdout.write(f"log in as {wanted.username} with password {password}")
