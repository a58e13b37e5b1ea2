"""``tgadmin ensure-superuser``: create the first superuser from the environment, once.

ADMIN_USERNAME, ADMIN_PASSWORD (or ADMIN_PASSWORD_FILE) and ADMIN_EMAIL (optional).
An existing account is left alone: a password changed in the panel stays changed, a disabled
account stays disabled, a demoted one stays demoted. ``--reset`` (an explicit, audited recovery
step) sets the password from the environment again and re-activates and re-promotes the account.
ADMIN_SHOW_PASSWORD=true prints the password when the user is created, only under DEBUG.
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from pydantic import ValidationError

from tgadmin.config import SuperuserSettings
from tgadmin.panel import audit
from tgbot.config.sources import FileSecretError, describe_errors


class Command(BaseCommand):
    help = (
        "Create the first superuser from ADMIN_USERNAME, ADMIN_PASSWORD[_FILE], ADMIN_EMAIL; "
        "an existing account is left alone unless --reset."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Recovery: set the existing account's password from the environment again and "
            "make it an active superuser (audited).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            wanted = SuperuserSettings()
        except (ValidationError, FileSecretError) as exc:
            for line in describe_errors(exc, prefix="ADMIN_"):
                print(line, file=sys.stderr)
            raise SystemExit(2) from None
        password = wanted.password.get_secret_value()
        user_model = get_user_model()
        try:
            validate_password(password, user_model(username=wanted.username, email=wanted.email))
        except DjangoValidationError as exc:
            print(f"config error: ADMIN_PASSWORD: {' '.join(exc.messages)}", file=sys.stderr)
            raise SystemExit(2) from None
        with transaction.atomic():
            user, created = user_model.objects.select_for_update().get_or_create(
                **{user_model.USERNAME_FIELD: wanted.username},
                defaults={"email": wanted.email, "is_staff": True, "is_superuser": True},
            )
            if created:
                user.set_password(password)
                user.save()
                self._audit("superuser_created", user.pk)
                state = "created"
            elif options["reset"]:
                user.set_password(password)
                user.is_active = user.is_staff = user.is_superuser = True
                if wanted.email:
                    user.email = wanted.email
                user.save()
                self._audit("superuser_reset", user.pk)
                state = "reset"
            else:
                state = "exists, left unchanged (use --reset to recover it)"
        self.stdout.write(f"superuser {wanted.username}: {state}")
        if created and wanted.show_password and settings.DEBUG:
            # Development only: the dev profile's placeholder password, shown the one time the
            # user is made so that `docker compose logs admin-migrate` tells how to log in.
            self.stdout.write(f"log in as {wanted.username} with password {password}")

    @staticmethod
    def _audit(action: str, user_id: object) -> None:
        audit.record(
            None, action, object_type="auth.user", object_id=user_id, username="ensure-superuser"
        )
