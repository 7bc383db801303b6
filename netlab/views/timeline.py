"""A connection's state changes as tables: the replayed timeline, and RFC 9293's arrows.

The data come from :mod:`netlab.analysis.timeline` (each change checked against the diagram)
and :mod:`netlab.model.tcp_states` (the diagram as a table of rules); this module only lays
them out, in the page's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from netlab.analysis.timeline import Timeline, Transition
from netlab.i18n import labelled, tr
from netlab.model.tcp_states import RULES, Rule
from netlab.views.table import Grid

__all__ = ["cause", "timeline_grid", "rules_grid"]


def cause(t: Transition) -> str:
    """What made one side change state: ``client: close()``, or ``#5 FIN, ACK → server``."""
    host = tr(t.host)
    if t.call is not None:
        return labelled(host, t.call.call)
    assert t.segment is not None
    return f"#{t.segment.number} {t.segment.flags_text} → {host}"


def timeline_grid(timeline: Timeline) -> Grid:
    """One row per state change: when, what caused it, both states after it, the rule."""
    t0 = min([t.timestamp_ns for t in timeline.transitions]
             + [s.time_ns for s in timeline.close.connection.segments])
    rows = [[tr("time (ms)"), tr("event"), tr("client"), tr("server"), tr("RFC 9293 rule")],
            ["", tr("before the first segment"), timeline.start["client"].name,
             timeline.start["server"].name, ""]]
    for t in timeline.transitions:
        rows.append([f"{(t.timestamp_ns - t0) / 1e6:.3f}", cause(t), t.client.name,
                     t.server.name, labelled(tr(t.host), t.rule.label)])
    return Grid(rows, right={tr("time (ms)")})


def rules_grid(seen: Iterable[Rule] = ()) -> Grid:
    """The arrows of RFC 9293's Figure 5 (with note 2), and any other rule in ``seen``.

    The last column marks the rules in ``seen``: the transitions an experiment observed.
    """
    seen = set(seen)
    yes = "✓"
    rows = [[tr("state"), tr("event / action"), tr("next state"), tr("where"), tr("seen here")]]
    for r in RULES:
        if r.source.startswith("§3.3.2") or r in seen:
            rows.append([r.state.name, r.label, r.next.name, r.source, yes if r in seen else ""])
    return Grid(rows)
