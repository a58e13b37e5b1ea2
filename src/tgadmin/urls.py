"""URLs: the admin and its inbox under ``ADMIN_URL_PREFIX``, probes, metrics, language switch."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from tgadmin.panel import security_keys
from tgadmin.panel.health import healthz, readyz
from tgadmin.panel.metrics import metrics_view
from tgadmin.panel.two_factor import two_factor_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path(f"{settings.ADMIN_URL_PREFIX}inbox/", include("tgadmin.panel.inbox.urls")),
    path(
        f"{settings.ADMIN_URL_PREFIX}two-factor/keys/",
        include((security_keys.urlpatterns, "otp_webauthn")),
    ),
    path(
        f"{settings.ADMIN_URL_PREFIX}two-factor/",
        admin.site.admin_view(two_factor_view),
        name="two_factor",
    ),
    path(settings.ADMIN_URL_PREFIX, admin.site.urls),
    path("", RedirectView.as_view(url=f"/{settings.ADMIN_URL_PREFIX}", permanent=False)),
]
