"""The policy the running service applies: routing/policy.yml as last read without error.

The file is re-read when it changes (its modification time, size or inode), so an operator's edit applies without
a restart. An edit that does not validate must not take the service down: the last valid policy stays in force,
the error is logged once with the file's path, and `/health` reports it until the file is fixed. Only a service
that never read a valid policy refuses to work (`create_app` raises at start-up).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from clock import utcnow
from routing.policy.definition import Policy
from routing.policy.loader import PolicyError, parse_policy

log = logging.getLogger(__name__)

_Stamp = tuple[int, int, int]  # mtime_ns, size, inode: a rewrite, a replace (rename) or a truncation changes it


@dataclass(frozen=True)
class PolicyHealth:
    """What /health says about the policy: the file, the last valid load, and the error of a newer bad version."""

    path: str
    loaded_at: datetime | None
    error: str | None


class CurrentPolicy:
    """Thread-safe holder of the policy in force (one per app)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = None
        self._policy: Policy | None = None
        self._loaded_at: datetime | None = None
        self._error: str | None = None

    def get(self) -> Policy:
        """The policy in force, after re-reading the file if it changed; PolicyError only if none was ever valid."""
        stamp = self._file_stamp()
        if stamp != self._stamp:
            with self._lock:
                if stamp != self._stamp:
                    self._reload(stamp)
        if self._policy is None:
            raise PolicyError(self._error or f"{self.path}: no policy loaded")
        return self._policy

    def health(self) -> PolicyHealth:
        """The state of the policy file (re-read first, so a fix or a new error shows at once)."""
        try:
            self.get()
        except PolicyError:
            pass
        return PolicyHealth(str(self.path), self._loaded_at, self._error)

    def _file_stamp(self) -> _Stamp | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _reload(self, stamp: _Stamp | None) -> None:
        self._stamp = stamp
        try:
            if stamp is None:
                raise PolicyError(f"{self.path}: policy file not found")
            try:
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyError(f"{self.path}: cannot be read: {exc}") from exc
            policy = parse_policy(text, str(self.path))
        except PolicyError as exc:
            self._error = str(exc)
            if self._policy is None:
                log.error("policy: %s", exc)
            else:
                log.error("policy: %s\npolicy: still applying the valid version of %s, loaded at %s",
                          exc, self.path, self._loaded_at.isoformat() if self._loaded_at else "?")
            return
        if self._error is not None:
            log.warning("policy: %s is valid again (version %s); applying it", self.path, policy.version)
        self._policy, self._loaded_at, self._error = policy, utcnow(), None
