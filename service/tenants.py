"""Tenants and their API keys: which tenant a key belongs to, from key hashes only, compared in constant time.

Keys come from two settings:

- ``GRADIENT_API_KEYS_FILE``: a file of lines ``TENANT SHA256HEX`` (the tenant's name and the SHA-256 of one of its
  keys in hex; several lines may name one tenant, so a key can be rotated; ``#`` starts a comment), e.g. a
  Kubernetes Secret or a Docker secret mounted as a file. It is read again when it changes (looked at, at most
  every :data:`RELOAD_SECONDS`, on the next request), with no restart; a bad line is skipped with a warning
  that names its number, never its text.
- ``GRADIENT_API_KEYS``: comma-separated plain keys, each its own tenant, named by the first 12 hex digits of
  its hash.

Only the hashes are kept. A key sent is hashed and compared with every hash, so the time taken does not
tell which one nearly matched. Without keys the service has one tenant, :data:`DEFAULT_TENANT`.
No HTTP here: :mod:`service.middleware.api_key` asks :meth:`Keyring.tenant`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from pathlib import Path

log = logging.getLogger("service.tenants")

#: The one tenant of a service without keys.
DEFAULT_TENANT = "default"
#: A tenant's name: it names its folders under the data dir and its keys in Redis.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEX = re.compile(r"[0-9a-fA-F]{64}")
#: Seconds between two looks at the keys file.
RELOAD_SECONDS = 1.0


def key_hash(key: str) -> str:
    """The SHA-256 of a key, in hex: what the keys file holds."""
    return hashlib.sha256(key.encode()).hexdigest()


def line_for(tenant: str, key: str) -> str:
    """The keys file's line for ``key`` of ``tenant`` (``gradient-service keys hash TENANT`` prints it)."""
    if not NAME.fullmatch(tenant):
        raise ValueError(f"a tenant's name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit: {tenant!r}")
    return f"{tenant} {key_hash(key)}"


def parse(text: str, source: str) -> dict[bytes, str]:
    """The (hash → tenant) entries of a keys file's text; bad lines are skipped with a warning naming their number."""
    entries: dict[bytes, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not NAME.fullmatch(parts[0]) or not _HEX.fullmatch(parts[1]):
            log.warning("%s line %d is not `TENANT SHA256HEX` (a tenant name and 64 hex digits); it is skipped", source, number)
            continue
        entries[bytes.fromhex(parts[1])] = parts[0]
    return entries


class Keyring:
    """The keys of this server: from ``keys`` (plain, each its own tenant) and the keys file at ``path`` (re-read when it changes)."""

    def __init__(self, keys: list[str], path: Path | None) -> None:
        self.path = path
        self._plain = {hashlib.sha256(k.encode()).digest(): key_hash(k)[:12] for k in keys}
        self._file: dict[bytes, str] = {}
        self._entries: list[tuple[bytes, str]] = []
        self._seen: tuple[int, int, int, int] | None = None
        self._looked = 0.0
        if path is not None:
            self._load(first=True)
        self._entries = [*self._plain.items(), *self._file.items()]

    @property
    def active(self) -> bool:
        """Whether keys are needed: some are configured, or a keys file is (even an empty one: then no key opens)."""
        return bool(self._plain) or self.path is not None

    def tenant(self, key: str) -> str | None:
        """The tenant ``key`` belongs to, or None."""
        self._reload()
        digest = hashlib.sha256(key.encode()).digest()
        found = None
        for known, tenant in self._entries:  # every hash is compared: no early exit
            if hmac.compare_digest(known, digest):
                found = tenant
        return found

    def _reload(self) -> None:
        if self.path is None or time.monotonic() - self._looked < RELOAD_SECONDS:
            return
        self._load(first=False)
        self._entries = [*self._plain.items(), *self._file.items()]

    def _load(self, first: bool) -> None:
        assert self.path is not None
        self._looked = time.monotonic()
        try:
            st = self.path.stat()  # follows the symlinks a Kubernetes Secret volume swaps
            seen = (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)
            if seen == self._seen:
                return
            text = self.path.read_text()
        except OSError as exc:
            if first:
                raise RuntimeError(f"the API keys file {self.path} cannot be read: {exc.strerror}") from None
            log.warning("the API keys file %s cannot be read now (%s); the keys read before stay in force", self.path, exc.strerror)
            return
        self._file = parse(text, str(self.path))
        self._seen = seen
        tenants = sorted(set(self._file.values()))
        log.info("API keys file %s: %d keys of %d tenants (%s)", self.path, len(self._file), len(tenants), ", ".join(tenants[:20]))
