"""``tgadmin ensure-superuser``: create or update a superuser from the environment, idempotently.

ADMIN_USERNAME, ADMIN_PASSWORD (or ADMIN_PASSWORD_FILE) and ADMIN_EMAIL (optional).
"""

from __future__ import annotations

import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from tgbot.config_sources import FileSecretError, describe_errors, with_file_secrets


class SuperuserSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ADMIN_", case_sensitive=False, extra="ignore", env_ignore_empty=True
    )

    username: str = Field(min_length=1, max_length=150, description="The admin's login name.")
    password: SecretStr = Field(min_length=8, description="The admin's password. Secret.")
    email: str = Field(default="", description="The admin's e-mail address.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return with_file_secrets(
            settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
        )


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
