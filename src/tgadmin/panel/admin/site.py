"""Titles of the admin site."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tgadmin.panel.two_factor import TwoFactorLoginForm


def configure_site() -> None:
    admin.site.site_header = _("Telegram bot administration")
    admin.site.site_title = _("Telegram bot admin")
    admin.site.index_title = _("Support and broadcasts")
    admin.site.login_form = TwoFactorLoginForm
