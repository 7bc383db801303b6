"""What every experiment returns: the contract between an experiment and its faces.

An experiment is a function that takes no required argument and returns a :class:`Result`.
The CLI, the snippets, the pages and the tests rely on nothing else of it:

- :meth:`Result.facts`: the chapter's claims, each checked on this run's data (a
  :class:`Fact`). A claim is written once, here; a page shows and asserts it, the tests count
  it, the CLI's exit status says whether all held.
- :meth:`Result.report`: everything as text for a terminal.
- :attr:`Result.trace` and :attr:`Result.pcap_host`: the captures (one per host that captured,
  ``trace.frames``), and *whose* capture ``netlab run --pcap`` saves: the client's, the
  server's or a router's.
- :attr:`Result.keylog`: the TLS key log that decrypts the capture, or None where there is
  no TLS.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from netlab.analysis.trace import Trace

__all__ = ["Fact", "HasFacts", "Result", "checklist", "require", "save_pcap"]


@dataclass(frozen=True, kw_only=True)
class Fact:
    """A claim the chapter makes, and whether this run's data bear it out."""

    text: str
    """The claim, in the page's language (built with ``netlab.i18n.tr``)."""
    holds: bool
    evidence: str
    name: str = ""
    """A short stable key (``"stream-no-boundaries"``) by which a page's hidden cell checks
    the claim its prose makes (``require()``), whatever the language of the text."""


@runtime_checkable
class Result(Protocol):
    """What an experiment returns (see the module's text for who uses which part)."""

    @property
    def trace(self) -> Trace:
        """Every capture of the run, merged; ``trace.frames`` keeps each host's own."""
        ...

    @property
    def pcap_host(self) -> str:
        """Whose capture :meth:`save_pcap` saves: ``"client"``, ``"server"`` or ``"router"``."""
        ...

    @property
    def keylog(self) -> bytes | None:
        """The NSS key log of the run's TLS connections; None for an experiment without TLS."""
        ...

    def facts(self) -> Sequence[Fact]:
        """The chapter's claims, each checked on this run's data."""
        ...

    def report(self) -> str:
        """Everything the run observed, as text for a terminal."""
        ...


def save_pcap(result: Result, path: str | os.PathLike[str]) -> Path:
    """Save the capture of ``result.pcap_host`` as a pcap file; return its path."""
    return result.trace.write_pcap(path, host=result.pcap_host)


def checklist(facts: Sequence[Fact]) -> str:
    """The facts as a terminal checklist: ✓ or ✗, the claim, and its evidence below it."""
    return "\n".join(f"{'✓' if f.holds else '✗'} {f.text}\n    {f.evidence}" for f in facts)


class HasFacts(Protocol):
    """Anything that checks claims: a :class:`Result`, or a part of one a page shows alone
    (the lab chapter's delayed links, its firewall)."""

    def facts(self) -> Sequence[Fact]: ...


def require(result: HasFacts, *names: str) -> list[Fact]:
    """Check the facts called ``names`` (all of them when none is given) and return them.

    A page's hidden cell calls this instead of typing a threshold again: the claim and its
    test live once, in the experiment's :meth:`Result.facts`. Raises AssertionError, with the
    evidence, when a named fact is missing or does not hold, or when there are no facts.
    """
    facts = list(result.facts())
    chosen = [f for f in facts if f.name in names] if names else facts
    missing = set(names) - {f.name for f in chosen}
    failed = [f"{f.name or f.text}: {f.evidence}" for f in chosen if not f.holds]
    if missing or failed or not chosen:
        raise AssertionError(f"missing facts {sorted(missing)}, failed {failed}")
    return chosen
