"""Admin classes, one module per resource. Importing this package registers them."""

from tgadmin.panel.admin import (
    accounts,
    audit,
    broadcasts,
    canned,
    conversations,
    outbox,
    texts,
    users,
)
from tgadmin.panel.admin.site import configure_site

configure_site()

__all__ = [
    "accounts",
    "audit",
    "broadcasts",
    "canned",
    "conversations",
    "outbox",
    "texts",
    "users",
]
