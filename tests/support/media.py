"""Small real media files for tests: an MP4 container (the boxes players and the panel read)
and a GIF, built from bytes so no fixture file or encoder is needed."""

from __future__ import annotations

import struct


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _track(handler: bytes) -> bytes:
    hdlr = _box(b"hdlr", b"\0\0\0\0" + b"\0\0\0\0" + handler + b"\0" * 12 + b"track\0")
    return _box(b"trak", _box(b"mdia", hdlr))


def tiny_mp4(*, sound: bool = False, padding: int = 0) -> bytes:
    """An MP4 file: ``ftyp``, a ``moov`` with a video track (and a sound track when ``sound``),
    then an ``mdat`` of ``padding`` bytes (to make it as large as a test needs)."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    tracks = _track(b"vide") + (_track(b"soun") if sound else b"")
    moov = _box(b"moov", _box(b"mvhd", b"\0" * 100) + tracks)
    return ftyp + moov + _box(b"mdat", b"\0" * padding)


def tiny_gif() -> bytes:
    """A 1x1 GIF89a."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\x00"
        b"!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )
