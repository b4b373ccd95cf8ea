"""The exception every vision_prep check raises: a stable reason plus a detail."""

from __future__ import annotations


class Rejected(Exception):
    """Unusable input; `reason` is one of the subclass's `REASONS`."""

    REASONS: tuple[str, ...] = ()

    def __init__(self, reason: str, detail: str = ""):
        if reason not in self.REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
