"""The schema. Importing this package registers every table on ``Base.metadata``."""

from tgbot.db.models.audit import AdminAuditLog
from tgbot.db.models.base import Base
from tgbot.db.models.broadcasts import BROADCAST_STATUSES, Broadcast
from tgbot.db.models.conversations import (
    CANNED_ANSWER_LANGUAGES,
    CONVERSATION_STATUSES,
    MESSAGE_DIRECTIONS,
    CannedAnswer,
    Conversation,
    ConversationNote,
    Message,
)
from tgbot.db.models.outbox import OutboxMessage, OutboxUpload
from tgbot.db.models.texts import BotText
from tgbot.db.models.updates import ProcessedUpdate
from tgbot.db.models.users import TelegramUser, UserTag

__all__ = [
    "BROADCAST_STATUSES",
    "CANNED_ANSWER_LANGUAGES",
    "CONVERSATION_STATUSES",
    "MESSAGE_DIRECTIONS",
    "AdminAuditLog",
    "Base",
    "BotText",
    "Broadcast",
    "CannedAnswer",
    "Conversation",
    "ConversationNote",
    "Message",
    "OutboxMessage",
    "OutboxUpload",
    "ProcessedUpdate",
    "TelegramUser",
    "UserTag",
]
