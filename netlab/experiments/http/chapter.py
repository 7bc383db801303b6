"""The HTTP chapter's experiments together, with every claim of the chapter checked.

:func:`http` runs, each in a lab of its own: one request (:mod:`~netlab.experiments.http.basics`),
the cost of connections (:mod:`~netlab.experiments.http.costs`), head-of-line blocking
(:mod:`~netlab.experiments.http.head_of_line`), persistence and the idle timeout, bad input
(:mod:`~netlab.experiments.http.robustness`), and the eavesdropper
(:mod:`~netlab.experiments.http.eavesdrop`). It takes about ten seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from netlab.analysis.trace import Trace
from netlab.experiments.http.basics import OneRequest, Persistence, one_request, persistence
from netlab.experiments.http.costs import CostResult, connection_costs
from netlab.experiments.http.eavesdrop import Eavesdrop, eavesdrop
from netlab.experiments.http.head_of_line import HolResult, head_of_line
from netlab.experiments.http.robustness import BadInputResult, bad_input
from netlab.experiments.result import Fact, checklist
from netlab.views.table import Table

__all__ = ["HttpResult", "http"]


@dataclass(frozen=True, kw_only=True)
class HttpResult:
    """Every experiment of the HTTP chapter, from one run."""

    one: OneRequest
    costs: CostResult
    hol: HolResult
    persistence: Persistence
    bad_input: BadInputResult
    eavesdrop: Eavesdrop
    pcap_host: str = "client"
    keylog: None = None  # no TLS in this experiment

    @property
    def trace(self) -> Trace:
        """The one-request trace (what ``netlab run http --pcap`` saves)."""
        return self.one.trace

    def parts(self) -> tuple[OneRequest, CostResult, HolResult, Persistence, BadInputResult,
                             Eavesdrop]:
        return (self.one, self.costs, self.hol, self.persistence, self.bad_input, self.eavesdrop)

    def facts(self) -> list[Fact]:
        """The chapter's claims, each checked on this run's data."""
        return [f for part in self.parts() for f in part.facts()]

    def report(self) -> str:
        """Everything, as text for a terminal."""
        one = Table(self.one.trace, absolute=False, options=False)
        return (f"One HTTP request over TCP\n\n{one}"
                f"\n\nThe cost of connections\n\n{self.costs.grid()}\n\n"
                f"Head-of-line blocking\n\n{self.hol.grid()}\n\n"
                f"Bad input\n\n{self.bad_input.grid()}\n\nFacts\n\n{checklist(self.facts())}")


def http() -> HttpResult:
    """Run every experiment of the HTTP chapter."""
    return HttpResult(one=one_request(), costs=connection_costs(), hol=head_of_line(),
                      persistence=persistence(), bad_input=bad_input(), eavesdrop=eavesdrop())
