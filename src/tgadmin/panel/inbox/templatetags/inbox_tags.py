"""``{% inbox_waiting_count %}``: the number of conversations waiting, for the admin home."""

from __future__ import annotations

from django import template

from tgadmin.panel.inbox.queries import waiting_count

register = template.Library()


@register.simple_tag
def inbox_waiting_count() -> int:
    return waiting_count()
