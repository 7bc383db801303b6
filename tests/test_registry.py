"""The experiment registry: every entry runs, returns a Result, and checks as many facts as
it says, all of them holding (the same facts its page shows and asserts)."""

from __future__ import annotations

import pytest
from support import require_namespaces

from netlab.experiments import EXPERIMENTS, Result
from netlab.experiments.result import Fact

CHAPTERS = {"lab", "sockets", "handshake", "queues", "teardown", "http", "https",
            "longlived", "network"}


def test_every_entry_names_a_chapter_page_and_some_facts() -> None:
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    assert {e.chapter for e in EXPERIMENTS.values()} == CHAPTERS
    for e in EXPERIMENTS.values():
        assert (docs / f"{e.chapter}.md").is_file(), e.name
        assert e.facts > 0, e.name  # an experiment without facts checks nothing


@pytest.mark.live
@pytest.mark.parametrize("name", [n for n in EXPERIMENTS if n != "http"])  # http: the others
def test_every_experiment_checks_its_facts(name: str) -> None:
    require_namespaces()
    entry = EXPERIMENTS[name]
    result = entry.run()
    assert isinstance(result, Result)
    facts = list(result.facts())
    assert all(isinstance(f, Fact) for f in facts)
    assert len(facts) == entry.facts, [f.text for f in facts]
    failed = [f"{f.text}: {f.evidence}" for f in facts if not f.holds]
    assert facts and not failed, failed  # an empty list of failures passes only with facts
    assert result.pcap_host in result.trace.frames, result.pcap_host
    # a key log is offered where a page decrypts the capture with it
    assert (result.keylog is not None) == (name in {"https", "https-eavesdrop"})
