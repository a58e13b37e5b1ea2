"""Outbox statuses, shared by the bot (models, the dispatcher) and the admin panel.

Plain data with no imports: the admin image, which carries no SQLAlchemy, reads it too.
"""

PENDING, SENDING, SENT, FAILED, DEAD, CANCELLED = (
    "pending",
    "sending",
    "sent",
    "failed",
    "dead",
    "cancelled",
)
OUTBOX_STATUSES = (PENDING, SENDING, SENT, FAILED, DEAD, CANCELLED)
