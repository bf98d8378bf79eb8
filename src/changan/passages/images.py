"""Content-addressed image store: an image is kept once, under the SHA-256 of its bytes.

Writes go to a temporary file that is fsynced and renamed, so an image exists
on disk before the passage that references it is committed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_EXT = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"GIF8": ".gif", b"BM": ".bmp"}
_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
    ".bin": "application/octet-stream",
}


#: Sent with every stored image: a picture from a device is data, never a document that may run code
#: (an SVG could carry script; ``sandbox`` and ``default-src 'none'`` keep it inert).
SAFE_IMAGE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, max-age=86400",
}


def sniff_extension(data: bytes) -> str:
    for magic, ext in _EXT.items():
        if data.startswith(magic):
            return ext
    head = data[:256].lstrip()
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return ".svg"
    return ".bin"


def content_type_of(name: str) -> str:
    return _TYPES.get(Path(name).suffix, "application/octet-stream")


class ImageStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its name ``<sha256><ext>``. Idempotent."""
        digest = hashlib.sha256(data).hexdigest()
        name = digest + sniff_extension(data)
        path = self.path_of(name)
        if path.exists():
            return name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        return name

    def path_of(self, name: str) -> Path:
        if not name or "/" in name or "\\" in name or name.startswith("."):
            msg = f"bad image name {name!r}"
            raise ValueError(msg)
        return self.root / name[:2] / name[2:4] / name

    def get(self, name: str) -> bytes | None:
        path = self.path_of(name)
        return path.read_bytes() if path.exists() else None
