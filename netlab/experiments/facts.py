"""What every experiment result reports to the CLI: the chapter's claims, checked."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Fact"]


@dataclass(frozen=True, kw_only=True)
class Fact:
    """A claim the chapter makes, and whether this run's data bear it out."""

    text: str
    holds: bool
    evidence: str
