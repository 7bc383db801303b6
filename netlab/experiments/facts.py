"""What every experiment result reports to the CLI: the chapter's claims, checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Fact", "checklist"]


@dataclass(frozen=True, kw_only=True)
class Fact:
    """A claim the chapter makes, and whether this run's data bear it out."""

    text: str
    holds: bool
    evidence: str


def checklist(facts: Sequence[Fact]) -> str:
    """The facts as a terminal checklist: ✓ or ✗, the claim, and its evidence below it."""
    return "\n".join(f"{'✓' if f.holds else '✗'} {f.text}\n    {f.evidence}" for f in facts)
