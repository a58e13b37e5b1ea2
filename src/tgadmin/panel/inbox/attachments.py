"""Files operators attach to replies: which Bot API method sends them, and Telegram's limits.

Images Telegram shows as photos (JPEG, PNG, WebP up to 10 MB) go as photos; other files of the
kinds below, up to 50 MB (a bot's upload limit), go as documents. Anything else is refused with
the reason, before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_CAPTION = 1024
DOCUMENT_EXTENSIONS = {
    ".pdf", ".txt", ".csv", ".rtf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
    ".odt", ".ods", ".odp", ".zip", ".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic",
    ".mp3", ".ogg", ".m4a", ".mp4", ".mov", ".webm",
}  # fmt: skip


class AttachmentRefused(ValueError):
    """The file cannot be sent; the message says why, for the operator."""


@dataclass(frozen=True)
class Attachment:
    data: bytes
    file_name: str
    mime_type: str
    method: str  # sendPhoto or sendDocument

    @property
    def content_type(self) -> str:
        return "photo" if self.method == "sendPhoto" else "document"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def read_attachment(upload: UploadedFile) -> Attachment:
    name = PurePath(upload.name or "file").name[:255] or "file"
    mime = (upload.content_type or "application/octet-stream")[:100]
    size = upload.size or 0
    if size == 0:
        raise AttachmentRefused(_("The file %(name)s is empty.") % {"name": name})
    if mime in PHOTO_TYPES and size <= MAX_PHOTO_BYTES:
        method = "sendPhoto"
    elif PurePath(name).suffix.lower() in DOCUMENT_EXTENSIONS:
        method = "sendDocument"
    else:
        raise AttachmentRefused(
            _("%(name)s: this kind of file cannot be sent (allowed: %(kinds)s).")
            % {"name": name, "kinds": ", ".join(sorted(DOCUMENT_EXTENSIONS))}
        )
    if size > MAX_DOCUMENT_BYTES:
        raise AttachmentRefused(
            _("%(name)s is %(size)s; Telegram lets a bot send files up to 50 MB.")
            % {"name": name, "size": _megabytes(size)}
        )
    return Attachment(upload.read(), name, mime, method)
