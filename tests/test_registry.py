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
    # every claim has a name a page can check it by, once
    names = [f.name for f in facts]
    assert all(names) and len(set(names)) == len(names), names
    failed = [f"{f.text}: {f.evidence}" for f in facts if not f.holds]
    assert facts and not failed, failed  # an empty list of failures passes only with facts
    assert result.pcap_host in result.trace.frames, result.pcap_host
    # a key log is offered where a page decrypts the capture with it
    assert (result.keylog is not None) == (name in {"https", "https-eavesdrop"})


def test_require_fails_on_a_false_missing_or_empty_list_of_facts() -> None:
    from types import SimpleNamespace

    from netlab.experiments.result import require

    def result(*facts: Fact) -> object:
        return SimpleNamespace(facts=lambda: list(facts))

    good = Fact(text="a", holds=True, evidence="", name="a")
    bad = Fact(text="b", holds=False, evidence="why not", name="b")
    assert require(result(good, bad), "a") == [good]  # type: ignore[arg-type]
    for args in ((result(good, bad),), (result(good, bad), "b"), (result(good), "c"),
                 (result(),)):
        with pytest.raises(AssertionError):
            require(*args)  # type: ignore[arg-type]


def test_no_hidden_cell_checks_a_fact_by_hand() -> None:
    """A hidden cell that asserts on a page checks its claims through require(), not by
    testing ``f.holds`` itself or typing a tolerance again: the claim lives in facts()."""
    import re
    from pathlib import Path

    docs = Path(__file__).resolve().parent.parent / "docs"
    retyped = []
    for page in docs.glob("*.md"):
        for cell in re.findall(r"```\{jupyter-execute\}\n(.*?)```", page.read_text(), re.S):
            if ":hide-code:" in cell and ":hide-output:" in cell:
                retyped += [f"{page.name}: {line.strip()}" for line in cell.splitlines()
                            if line.lstrip().startswith("assert")
                            and re.search(r"\.holds\b|\.facts\(\)|\b0\.9\b|\b1\.1\d?\b", line)]
    assert not retyped, retyped


def test_every_fact_a_page_names_exists() -> None:
    """The names a page's cells check (require(), FactList()) are facts some experiment has."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    defined = set(re.findall(r'Fact\(name="([^"]+)"', "".join(
        p.read_text() for p in (root / "netlab" / "experiments").rglob("*.py"))))
    used = set()
    for page in (root / "docs").glob("*.md"):
        for call in re.findall(r"(?:require|FactList)\(([^)]*)\)", page.read_text()):
            used |= set(re.findall(r'"([a-z0-9-]+)"', call))
    assert used and used <= defined, used - defined


def test_shows_prints_the_error_and_fails_without_one(capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    from netlab.proto.framing import Decoder, FramingError
    from netlab.views.errors import shows

    with shows(FramingError):
        Decoder().feed(b"\xff\xff\xff\xff")
    assert capsys.readouterr().out.startswith("FramingError: frame announces 4294967295 bytes")
    with pytest.raises(AssertionError), shows(FramingError):
        pass
