"""Canned answers: ready replies operators insert in the inbox's reply box (``{name}`` only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from tgadmin.panel.admin.base import AuditedAdmin
from tgadmin.panel.models import CannedAnswer

PLACEHOLDERS = {"{name}"}


class CannedAnswerForm(forms.ModelForm[CannedAnswer]):
    class Meta:
        model = CannedAnswer
        fields = ("title", "language", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 6, "cols": 60})}

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if len(body) > 4096:
            raise forms.ValidationError(_("A reply is at most 4096 characters."))
        rest = body.replace("{name}", "")
        if "{" in rest or "}" in rest:
            raise forms.ValidationError(
                _("Only the {name} placeholder is allowed; remove the other braces.")
            )
        return body


@admin.register(CannedAnswer)
class CannedAnswerAdmin(AuditedAdmin[CannedAnswer]):
    form = CannedAnswerForm
    list_display = ("title", "language", "short_body", "updated_at")
    list_filter = ("language",)
    search_fields = ("title", "body")
    ordering = ("title", "language")

    @admin.display(description=_("text"))
    def short_body(self, obj: CannedAnswer) -> str:
        return Truncator(obj.body).chars(80)
