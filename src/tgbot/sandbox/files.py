"""Files the sandbox holds: what users send from the chat page or the control API, and what the
bot uploads. ``getFile`` gives a ``file_path``; ``/file/bot<token>/<file_path>`` serves the bytes,
as Telegram's file server does. In memory, like the rest of the sandbox's state."""

from __future__ import annotations

import itertools
import mimetypes
import secrets
import struct
import zlib
from dataclasses import dataclass

# Telegram's limits: bots upload photos up to 10 MB and other files up to 50 MB, and download
# files up to 20 MB with getFile.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_name: str
    mime_type: str
    file_path: str

    def as_file(self) -> dict[str, object]:
        """The Bot API ``File`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }

    def as_document(self) -> dict[str, object]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": len(self.data),
        }


def placeholder_png(rgb: tuple[int, int, int] = (64, 128, 192), size: int = 48) -> bytes:
    """A small solid-colour PNG, for photos sent without bytes (``photo: true``)."""
    row = b"\x00" + bytes(rgb) * size
    raw = row * size

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._numbers = itertools.count(1)
        self.bot_uploads = 0  # files the bot sent as multipart uploads (not by file_id)

    def put(self, data: bytes, *, file_name: str, mime_type: str | None, photo: bool) -> StoredFile:
        file_id = "sbx_" + secrets.token_urlsafe(12)
        number = next(self._numbers)
        guessed = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        suffix = mimetypes.guess_extension(guessed) or ""
        path = f"photos/file_{number}.jpg" if photo else f"documents/file_{number}{suffix}"
        stored = StoredFile(file_id, f"{file_id}_u", data, file_name, guessed, path)
        self._by_id[file_id] = stored
        self._by_path[path] = stored
        if photo:  # the thumbnail size of photo_sizes() shows the same picture
            self._by_id[f"{file_id}_s"] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)
