"""Files operators attach to replies and broadcasts: which Bot API method sends them, and
Telegram's limits.

A reply's file goes as a photo when it is an image Telegram shows as one (JPEG, PNG, WebP up to
10 MB), otherwise as a document (the kinds below, up to 50 MB, a bot's upload limit). A
broadcast may also send a video (MP4) or an animation (GIF, or MP4 without sound, which Telegram
plays looped and muted), chosen by the operator or guessed from the file's bytes. Anything else
is refused with the reason, before anything is stored.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from mutagen.mp4 import MP4StreamInfoError
from mutagen.mp4._atom import Atoms  # the MP4 box reader (mutagen.mp4 uses, not re-exports)

PHOTO_TYPES = {"image/jpeg", "image/png", "image/webp"}
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024  # also videos and animations: a bot's upload limit
MAX_CAPTION = 1024
DOCUMENT_EXTENSIONS = {
    ".pdf", ".txt", ".csv", ".rtf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
    ".odt", ".ods", ".odp", ".zip", ".jpg", ".jpeg", ".png", ".webp", ".gif", ".heic",
    ".mp3", ".ogg", ".m4a", ".mp4", ".mov", ".webm",
}  # fmt: skip


class Kind(StrEnum):
    """How Telegram shows a file: each is one Bot API method and its file parameter."""

    PHOTO = "photo"
    VIDEO = "video"
    ANIMATION = "animation"
    DOCUMENT = "document"

    @property
    def method(self) -> str:
        return "send" + self.value.capitalize()


KIND_LABELS = {
    Kind.PHOTO: gettext_lazy("photo (JPEG, PNG or WebP, up to 10 MB)"),
    Kind.VIDEO: gettext_lazy("video (MP4, up to 50 MB)"),
    Kind.ANIMATION: gettext_lazy("animation (GIF, or MP4 without sound, up to 50 MB)"),
    Kind.DOCUMENT: gettext_lazy("file (up to 50 MB)"),
}


class AttachmentRefused(ValueError):
    """The file cannot be sent; the message says why, for the operator."""


@dataclass(frozen=True)
class Attachment:
    data: bytes
    file_name: str
    mime_type: str
    method: str  # sendPhoto, sendVideo, sendAnimation or sendDocument

    @property
    def content_type(self) -> str:
        """The message's content type: the file parameter of its method."""
        return next(k.value for k in Kind if k.method == self.method)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def is_gif(data: bytes) -> bool:
    return data[:6] in (b"GIF87a", b"GIF89a")


def is_mp4(data: bytes) -> bool:
    """An ISO media file (MP4): it opens with its ``ftyp`` box."""
    return data[4:8] == b"ftyp"


def mp4_has_sound(data: bytes) -> bool:
    """Whether the MP4 has a sound track (a ``soun`` handler in one of its tracks)."""
    fileobj = io.BytesIO(data)
    try:
        moov = Atoms(fileobj)[b"moov"]
        for track in moov.findall(b"trak"):
            ok, hdlr = track[b"mdia", b"hdlr"].read(fileobj)
            if ok and hdlr[8:12] == b"soun":
                return True
    except (KeyError, MP4StreamInfoError, ValueError, EOFError):
        return False
    return False


def _guess(name: str, mime: str, data: bytes, size: int) -> Kind:
    """The kind a file is sent as when the operator leaves it to the panel."""
    if mime in PHOTO_TYPES and size <= MAX_PHOTO_BYTES:
        return Kind.PHOTO
    if is_gif(data):
        return Kind.ANIMATION
    if is_mp4(data) and PurePath(name).suffix.lower() in {".mp4", ".m4v"}:
        return Kind.VIDEO
    return Kind.DOCUMENT


def _check(kind: Kind, name: str, mime: str, data: bytes, size: int) -> None:
    """Refuse what Telegram would refuse (or show wrongly) for ``kind``."""
    limit = MAX_PHOTO_BYTES if kind is Kind.PHOTO else MAX_DOCUMENT_BYTES
    if size > limit:
        raise AttachmentRefused(
            _("%(name)s is %(size)s; Telegram lets a bot send a %(kind)s of up to %(limit)s.")
            % {
                "name": name,
                "size": _megabytes(size),
                "kind": kind.value,
                "limit": _megabytes(limit),
            }
        )
    if kind is Kind.PHOTO and mime not in PHOTO_TYPES:
        raise AttachmentRefused(
            _("%(name)s is not a JPEG, PNG or WebP image: send it as a file.") % {"name": name}
        )
    if kind is Kind.VIDEO and not is_mp4(data):
        raise AttachmentRefused(
            _("%(name)s is not an MP4 video: Telegram plays MP4; send other videos as a file.")
            % {"name": name}
        )
    if kind is Kind.ANIMATION:
        if not (is_gif(data) or is_mp4(data)):
            raise AttachmentRefused(
                _("%(name)s is neither a GIF nor an MP4 video: an animation is one of those.")
                % {"name": name}
            )
        if is_mp4(data) and mp4_has_sound(data):
            raise AttachmentRefused(
                _("%(name)s has sound, which an animation never plays: send it as a video.")
                % {"name": name}
            )
    if kind is Kind.DOCUMENT and PurePath(name).suffix.lower() not in DOCUMENT_EXTENSIONS:
        raise AttachmentRefused(
            _("%(name)s: this kind of file cannot be sent (allowed: %(kinds)s).")
            % {"name": name, "kinds": ", ".join(sorted(DOCUMENT_EXTENSIONS))}
        )


def read_attachment(
    upload: UploadedFile, kind: Kind | None = None, *, media: bool = False
) -> Attachment:
    """The file as Telegram will get it, or :class:`AttachmentRefused` with the reason.

    ``kind`` is the operator's choice; without one a photo or a document (a reply's rule),
    or with ``media`` also a video or an animation, guessed from the file's bytes.
    """
    name = PurePath(upload.name or "file").name[:255] or "file"
    mime = (upload.content_type or "application/octet-stream")[:100]
    size = upload.size or 0
    if size == 0:
        raise AttachmentRefused(_("The file %(name)s is empty.") % {"name": name})
    if size > MAX_DOCUMENT_BYTES:  # refused before its bytes are read
        raise AttachmentRefused(
            _("%(name)s is %(size)s; Telegram lets a bot send files up to 50 MB.")
            % {"name": name, "size": _megabytes(size)}
        )
    data = upload.read()
    if kind is None:
        kind = _guess(name, mime, data, size)
        if not media and kind in (Kind.VIDEO, Kind.ANIMATION):
            kind = Kind.DOCUMENT
    _check(kind, name, mime, data, size)
    return Attachment(data, name, mime, kind.method)
