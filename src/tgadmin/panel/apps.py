from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PanelConfig(AppConfig):
    name = "tgadmin.panel"
    label = "panel"
    verbose_name = _("Telegram bot")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tgadmin.panel import signals  # noqa: F401 - connects the audit receivers
