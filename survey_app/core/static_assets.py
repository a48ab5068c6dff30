"""Fingerprinted static files and the citizen pages' inline stylesheet.

A file's address carries a hash of its content (/s/form.3f2a9c1b.js), so it can be cached for a year as immutable:
a new release changes the address, never the bytes behind one. The citizen pages carry their whole stylesheet
inline (app.css, ~1 KB compressed) so the first screen paints after the HTML's one round trip; the CSP allows that
one <style> by its hash.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import questionnaires

IMMUTABLE = "public, max-age=31536000, immutable"
MEDIA_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
INLINE_STYLESHEET = "app.css"
# show_if.js ships with the questionnaire library: the page evaluates show_if with the server's own grammar
LIBRARY_FILES = {"show_if.js": Path(questionnaires.__file__).parent / "show_if.js"}


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    media_type: str

    @property
    def fingerprinted_name(self) -> str:
        stem, dot, suffix = self.name.rpartition(".")
        return f"{stem}.{hashlib.sha256(self.body).hexdigest()[:10]}{dot}{suffix}"


@dataclass(frozen=True)
class StaticAssets:
    """The files of the static folder read once at start-up, by plain and by fingerprinted name."""

    by_name: dict[str, Asset]
    by_address: dict[str, Asset] = field(default_factory=dict)

    @classmethod
    def load(cls, static_dir: Path) -> "StaticAssets":
        paths = {path.name: path for path in sorted(static_dir.iterdir()) if path.suffix in MEDIA_TYPES}
        assets = {name: Asset(name, path.read_bytes(), MEDIA_TYPES[path.suffix])
                  for name, path in {**paths, **LIBRARY_FILES}.items()}
        return cls(assets, {asset.fingerprinted_name: asset for asset in assets.values()})

    def url(self, name: str) -> str:
        return "/s/" + self.by_name[name].fingerprinted_name

    @property
    def inline_css(self) -> str:
        return self.by_name[INLINE_STYLESHEET].body.decode()

    @property
    def inline_css_hash(self) -> str:
        """The CSP source that allows exactly the inline stylesheet ('sha256-…' of the <style> element's text)."""
        digest = hashlib.sha256(self.by_name[INLINE_STYLESHEET].body).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"
