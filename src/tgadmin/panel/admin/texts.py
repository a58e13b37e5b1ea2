"""Bot texts per key and language, with the built-in default shown beside the edit box."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.template.defaultfilters import linebreaksbr
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tgadmin.panel.admin.base import AuditedAdmin
from tgadmin.panel.models import BotText
from tgbot.text_templates import template_problems
from tgbot.texts_defaults import DEFAULT_TEXTS


def default_text(key: str, language: str) -> str | None:
    return DEFAULT_TEXTS.get(key, {}).get(language)


class BotTextForm(forms.ModelForm[BotText]):
    key = forms.ChoiceField(label=_("key"), choices=[(k, k) for k in sorted(DEFAULT_TEXTS)])

    class Meta:
        model = BotText
        fields = ("key", "language", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 6, "cols": 60})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # On a change, key and language are read-only: the instance has them.
        key = data.get("key") or self.instance.key
        body = data.get("body")
        if key and body:
            for problem in template_problems(key, body):
                self.add_error("body", problem)
        return data


@admin.register(BotText)
class BotTextAdmin(AuditedAdmin[BotText]):
    form = BotTextForm
    list_display = ("key", "language", "short_body", "updated_at")
    list_filter = ("language",)
    search_fields = ("key",)
    ordering = ("key", "language")
    fields = ("key", "language", ("body", "default"), "updated_at")
    readonly_fields = ("default", "updated_at")

    class Media:
        css = {"all": ("panel/admin.css",)}
        js = ("panel/texts.js",)

    @admin.display(description=_("text"))
    def short_body(self, obj: BotText) -> str:
        return Truncator(obj.body).chars(80)

    @admin.display(description=_("built-in default"))
    def default(self, obj: BotText) -> SafeString:
        current = default_text(obj.key, obj.language) if obj.pk else None
        return format_html(
            '<div class="tg-default" id="tg-default" data-defaults="{}" data-none="{}">{}</div>',
            json.dumps(DEFAULT_TEXTS, ensure_ascii=False),
            gettext("no built-in default"),
            SafeString(linebreaksbr(current, autoescape=True)) if current else "—",
        )

    def get_readonly_fields(self, request: Any, obj: BotText | None = None) -> Any:
        # Key and language identify the text; change them by adding another one.
        if obj is not None:
            return ("key", "language", *self.readonly_fields)
        return self.readonly_fields
