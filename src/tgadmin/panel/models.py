"""Unmanaged mirrors of the bot's tables. Alembic owns the schema (src/tgbot/db/models/).

Column names, types, nullability, lengths and foreign keys match the database exactly; the
integration test ``test_models_mirror_schema`` compares them with information_schema.
Foreign keys use ``DO_NOTHING``: the database itself cascades or nulls.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tgbot.texts_defaults import LANGUAGES as BOT_LANGUAGES

LANGUAGES = list(BOT_LANGUAGES.items())


class TelegramUser(models.Model):
    telegram_id = models.BigIntegerField(_("Telegram id"), primary_key=True)
    username = models.CharField(_("username"), max_length=64, null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=256, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=256, null=True, blank=True)
    language_code = models.CharField(_("Telegram language"), max_length=16, null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en", choices=LANGUAGES)
    is_subscribed = models.BooleanField(_("subscribed"), default=False)
    is_blocked = models.BooleanField(_("blocked the bot"), default=False)
    is_banned = models.BooleanField(_("banned"), default=False)
    start_payload = models.CharField(_("start payload"), max_length=64, null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    subscribed_at = models.DateTimeField(_("subscribed at"), null=True, blank=True)

    class Meta:
        managed = False
        db_table = "tg_users"
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [("ban_user", _("Can ban and unban users"))]

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_id)


TAG_RE = r"^[a-z0-9_-]{1,32}$"


class UserTag(models.Model):
    """A tag an operator put on a user (lower-case letters, digits, _, -): a broadcast segment."""

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        TelegramUser, on_delete=models.CASCADE, db_column="telegram_id", related_name="tags"
    )
    tag = models.CharField(
        _("tag"),
        max_length=32,
        validators=[RegexValidator(TAG_RE, _("Lower-case letters, digits, _ and -, up to 32."))],
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        managed = False
        db_table = "user_tags"
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(fields=["user", "tag"], name="uq_user_tags_telegram_id")
        ]

    def __str__(self) -> str:
        return self.tag


class Conversation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        CLOSED = "closed", _("closed")

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        TelegramUser,
        on_delete=models.DO_NOTHING,
        related_name="conversations",
        verbose_name=_("user"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Kept by the database (trigger messages_track_conversation) from every message insert.
    waiting_since = models.DateTimeField(_("waiting since"), null=True, blank=True)
    last_message_at = models.DateTimeField(_("last message"), null=True, blank=True)
    last_message_direction = models.CharField(max_length=3, null=True, blank=True)
    last_message_content_type = models.CharField(max_length=32, null=True, blank=True)
    last_message_preview = models.CharField(max_length=200, null=True, blank=True)
    unread_count = models.IntegerField(_("unread"), default=0)
    assigned_admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    # Its forum topic in the staff supergroup (alembic 0009; docs/staff-topics.md).
    staff_chat_id = models.BigIntegerField(null=True, blank=True)
    staff_topic_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "conversations"
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        permissions = [("reply_conversation", _("Can reply to conversations"))]

    def __str__(self) -> str:
        return _("Conversation #%(id)s") % {"id": self.pk}

    @property
    def staff_topic_url(self) -> str | None:
        """Its forum topic in the staff supergroup (t.me/c/<chat without -100>/<topic>)."""
        if self.staff_chat_id is None or self.staff_topic_id is None:
            return None
        chat = str(self.staff_chat_id)
        if not chat.startswith("-100"):
            return None
        return f"https://t.me/c/{chat[4:]}/{self.staff_topic_id}"


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", _("from user")
        OUT = "out", _("reply")

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.DO_NOTHING, related_name="messages"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    content_type = models.CharField(_("content type"), max_length=32, default="text")
    text = models.TextField(_("text"), null=True, blank=True)
    file_id = models.CharField(max_length=256, null=True, blank=True)
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    author_admin_id = models.IntegerField(null=True, blank=True)
    author_admin_username = models.CharField(_("author"), max_length=150, null=True, blank=True)
    # A staff member who wrote it in the staff topic (alembic 0009).
    author_tg_id = models.BigIntegerField(null=True, blank=True)
    author_tg_name = models.CharField(max_length=150, null=True, blank=True)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)

    class Meta:
        managed = False
        db_table = "messages"
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return f"{self.direction} #{self.pk}"


class ConversationNote(models.Model):
    """An operator's internal note on a conversation: never sent to the user."""

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.DO_NOTHING, related_name="notes"
    )
    author_admin_id = models.IntegerField(null=True, blank=True)
    author_admin_username = models.CharField(_("author"), max_length=150)
    author_tg_id = models.BigIntegerField(null=True, blank=True)  # /note in the staff topic
    body = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        managed = False
        db_table = "conversation_notes"
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")

    def __str__(self) -> str:
        return f"note #{self.pk}"


class CannedAnswer(models.Model):
    """A ready reply; ``{name}`` becomes the user's first name."""

    id = models.BigAutoField(primary_key=True)
    title = models.CharField(_("title"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES)
    body = models.TextField(_("text"), help_text=_("{name} is replaced by the user's first name."))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        managed = False
        db_table = "canned_answers"
        verbose_name = _("canned answer")
        verbose_name_plural = _("canned answers")
        unique_together = [("title", "language")]
        ordering = ("title", "language")

    def __str__(self) -> str:
        return f"{self.title} [{self.language}]"


class BotText(models.Model):
    id = models.BigAutoField(primary_key=True)
    key = models.CharField(_("key"), max_length=64)
    language = models.CharField(_("language"), max_length=8, choices=LANGUAGES)
    body = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        managed = False
        db_table = "bot_texts"
        verbose_name = _("bot text")
        verbose_name_plural = _("bot texts")
        unique_together = [("key", "language")]

    def __str__(self) -> str:
        return f"{self.key} [{self.language}]"


class Broadcast(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SCHEDULED = "scheduled", _("scheduled")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        DONE = "done", _("done")
        CANCELLED = "cancelled", _("cancelled")

    id = models.BigAutoField(primary_key=True)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("text"))
    audience_active_days = models.PositiveIntegerField(
        _("active within (days)"),
        null=True,
        blank=True,
        help_text=_("Only users who wrote to the bot within this many days."),
    )
    audience_start_payload = models.CharField(
        _("came through /start"),
        max_length=64,
        null=True,
        blank=True,
        help_text=_("Only users who started the bot with this deep-link payload (a campaign)."),
    )
    audience_subscribed_since = models.DateTimeField(
        _("subscribed since"),
        null=True,
        blank=True,
        help_text=_("Only users who subscribed at or after this time."),
    )
    audience_tag = models.CharField(
        _("tag"), max_length=32, null=True, blank=True, help_text=_("Only users with this tag.")
    )
    parse_mode = models.CharField(max_length=16, null=True, blank=True)
    buttons = models.JSONField(_("buttons"), null=True, blank=True)
    method = models.CharField(max_length=32, default="sendMessage")
    upload = models.ForeignKey(
        "OutboxUpload",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="broadcasts",
        verbose_name=_("attachment"),
    )
    audience_language = models.CharField(
        _("audience language"),
        max_length=8,
        null=True,
        blank=True,
        choices=LANGUAGES,
        help_text=_("Only subscribers with this language; empty means every subscriber."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    scheduled_at = models.DateTimeField(
        _("scheduled at"),
        null=True,
        blank=True,
        help_text=_(
            "Saving keeps a draft. Empty: “Start now” sends it at once. A time ahead: "
            "“Schedule” holds it until then, when the dispatcher starts it."
        ),
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expansion_cursor = models.BigIntegerField(null=True, blank=True)
    expanded_at = models.DateTimeField(null=True, blank=True)
    total_count = models.IntegerField(_("recipients"), default=0)
    sent_count = models.IntegerField(_("sent"), default=0)
    failed_count = models.IntegerField(_("failed"), default=0)
    blocked_count = models.IntegerField(_("blocked"), default=0)
    skipped_count = models.IntegerField(_("skipped"), default=0)
    created_by_admin_id = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        managed = False
        db_table = "broadcasts"
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")
        permissions = [("control_broadcast", _("Can start, pause, resume and cancel broadcasts"))]

    def __str__(self) -> str:
        return self.title

    @property
    def pending_count(self) -> int:
        done = self.sent_count + self.failed_count + self.blocked_count + self.skipped_count
        return max(self.total_count - done, 0)


class OutboxMessage(models.Model):
    id = models.BigAutoField(primary_key=True)
    chat_id = models.BigIntegerField()
    method = models.CharField(max_length=32, default="sendMessage")
    payload = models.JSONField()
    status = models.CharField(_("delivery"), max_length=16, default="pending")
    attempts = models.IntegerField(default=0)
    max_attempts = models.IntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, null=True, blank=True)
    last_error = models.TextField(null=True, blank=True)
    last_error_code = models.IntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, unique=True)
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="outbox_rows"
    )
    message = models.ForeignKey(
        Message, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="outbox_rows"
    )
    telegram_message_id = models.BigIntegerField(null=True, blank=True)
    upload = models.ForeignKey(
        "OutboxUpload",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="outbox_rows",
    )
    # Posts into this conversation's staff topic (alembic 0009).
    topic_conversation = models.ForeignKey(
        Conversation, on_delete=models.DO_NOTHING, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "outbox"
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")

    def __str__(self) -> str:
        return f"{self.method} #{self.pk}"


class OutboxUpload(models.Model):
    """A file attached to a reply: uploaded to Telegram once, then sent by its file_id."""

    id = models.BigAutoField(primary_key=True)
    data = models.BinaryField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    mime_type = models.CharField(max_length=100)
    size = models.IntegerField()
    file_id = models.CharField(max_length=256, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "outbox_uploads"

    def __str__(self) -> str:
        return self.file_name


class ProcessedUpdate(models.Model):
    update_id = models.BigIntegerField(primary_key=True)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        managed = False
        db_table = "processed_updates"

    def __str__(self) -> str:
        return str(self.update_id)


class AdminAuditLog(models.Model):
    id = models.BigAutoField(primary_key=True)
    admin_user_id = models.IntegerField(null=True, blank=True)
    admin_username = models.CharField(_("admin"), max_length=150)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    details: models.JSONField[Any, Any] = models.JSONField(_("details"), default=dict)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        managed = False
        db_table = "admin_audit_log"
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.admin_username} {self.action} {self.object_type}:{self.object_id}"
