"""RFC 9293's TCP state diagram (its Figure 5), drawn from the rules the code checks.

Every arrow is a :class:`~netlab.model.tcp_states.Rule` of
:data:`~netlab.model.tcp_states.RULES`: the figure's own arrows and its notes, and any
other rule (an ABORT, an arriving RST) that the run followed. The states sit where the RFC
puts them (CLOSED twice, at the top and the bottom right, as in the RFC). The transitions
of this page's run are drawn thick, in the colour of the side that made them, and numbered
in the order they happened; the text alternative lists them in words.

>>> from netlab.model.tcp_states import RULES, TcpState, Event, rule
>>> from netlab.views.state_diagram import StateDiagram
>>> d = StateDiagram([("client", rule(TcpState.CLOSED, Event.ACTIVE_OPEN))])
>>> svg = d.svg()
>>> svg.count('class="netlab-rule') == sum(r.source.startswith("§3.3.2") for r in RULES)
True
>>> svg.count('class="netlab-step"')
1
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from netlab.i18n import tr
from netlab.model.tcp_states import RULES, Rule, TcpState
from netlab.views.ladder import _LabelBox, _Placer, text_width

if TYPE_CHECKING:
    from netlab.analysis.timeline import Timeline
    from netlab.model.moments import StatesAt

__all__ = ["StateDiagram"]

WIDTH, HEIGHT = 780, 720
BOX_W, BOX_H = 124, 34
_ids = itertools.count(1)
S = TcpState
# Where RFC 9293's Figure 5 puts each state (the centre of its box); "CLOSED*" is the second
# CLOSED box, at the bottom right, where LAST-ACK and TIME-WAIT end.
_AT: dict[str, tuple[float, float]] = {
    "CLOSED": (390, 40), "LISTEN": (390, 150),
    "SYN_RECV": (90, 260), "SYN_SENT": (690, 260),
    "ESTABLISHED": (390, 370),
    "FIN_WAIT_1": (90, 480), "CLOSE_WAIT": (690, 480),
    "FIN_WAIT_2": (90, 600), "CLOSING": (390, 600), "LAST_ACK": (690, 600),
    "TIME_WAIT": (390, 690), "CLOSED*": (690, 690),
}
#: The colour of each side's transitions (lines, 3:1 or more on light and dark pages).
SIDES = {"client": "#1c7ed6", "server": "#2f9e44"}
_OTHER = "#9c36b5"
# The numbers' discs: darker shades of the same, so their white digits keep 4.5:1.
_DISCS = {"client": "#1864ab", "server": "#237032"}
_OTHER_DISC = "#862e9c"


def _node(state: TcpState, into: bool, frm: TcpState | None = None) -> str:
    """The box an arrow leaves (``into=False``) or reaches: arrows into CLOSED from the
    lower half go to the bottom CLOSED box."""
    if state is not S.CLOSED:
        return state.name
    if into and frm is not None and _AT[frm.name][1] > _AT["ESTABLISHED"][1] - 1:
        return "CLOSED*"
    return "CLOSED"


def _edge(a: tuple[float, float], b: tuple[float, float],
          offset: float) -> tuple[float, float, float, float]:
    """The segment from box ``a`` to box ``b``, cut at the boxes' borders, moved sideways by
    ``offset`` (two arrows between the same boxes run side by side)."""
    (x1, y1), (x2, y2) = a, b
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1
    nx, ny = -dy / length, dx / length
    x1, y1, x2, y2 = x1 + nx * offset, y1 + ny * offset, x2 + nx * offset, y2 + ny * offset

    # how far along (0..1) the line leaves a box of half size BOX_W/2 × BOX_H/2
    t = min((BOX_W / 2 + 2) / abs(dx) if dx else math.inf,
            (BOX_H / 2 + 2) / abs(dy) if dy else math.inf)
    return x1 + dx * t, y1 + dy * t, x2 - dx * t, y2 - dy * t


class StateDiagram:
    """RFC 9293's state diagram, with the steps of a run highlighted and numbered.

    Args:
        steps: ``(side, rule)`` for each transition the run made, in order.
        title: the figure's name (a default names the RFC's figure).
    """

    def __init__(self, steps: Iterable[tuple[str, Rule]] = (), *, title: str = "") -> None:
        self.steps = tuple(steps)
        self.title = title or tr("TCP state diagram (RFC 9293, Figure 5)")

    @classmethod
    def from_timeline(cls, timeline: Timeline, *, title: str = "") -> StateDiagram:
        """The transitions of a connection's :class:`~netlab.analysis.timeline.Timeline`."""
        return cls([(t.host, t.rule) for t in timeline.transitions], title=title)

    @classmethod
    def from_states(cls, states: Sequence[StatesAt], *, title: str = "") -> StateDiagram:
        """The transitions between both sides' states read at moments of the run, in time
        order: each change of a side's state is the rule that leads from one state to the
        next (one of the figure's own arrows where there is a choice)."""
        last: dict[str, TcpState] = {}
        steps = []
        for at in sorted(states, key=lambda s: s.timestamp_ns):
            for host in ("client", "server"):
                state = at.of(host)
                state = S.SYN_RECV if state is S.NEW_SYN_RECV else state
                before = last.get(host)
                last[host] = state
                if before is None or before is state:
                    continue
                found = [r for r in RULES if r.state is before and r.next is state]
                if not found:
                    raise ValueError(f"RFC 9293 has no arrow from {before.rfc_name} "
                                     f"to {state.rfc_name} ({host})")
                found.sort(key=lambda r: not r.source.startswith("§3.3.2"))
                steps.append((host, found[0]))
        return cls(steps, title=title)

    def rules(self) -> list[Rule]:
        """The arrows drawn: the figure's, then any other the run followed."""
        used = {r for _, r in self.steps}
        return [r for r in RULES if r.source.startswith("§3.3.2") or r in used]

    def describe(self) -> str:
        """The text alternative: what the figure is, then each numbered step in words."""
        words = [tr("RFC 9293's TCP state diagram: {n} states and the arrows between them.")
                 .format(n=len(set(S) - {S.NEW_SYN_RECV}))]
        steps = [tr("{i}. {side}: {state} to {next} on {label}").format(
                 i=i, side=tr(side), state=r.state.name, next=r.next.name, label=r.label)
                 for i, (side, r) in enumerate(self.steps, start=1)]
        if not steps:
            return words[0]
        return tr("{figure} {steps}").format(figure=words[0],
                                             steps=tr("; ").join(steps) + tr("."))

    def svg(self) -> str:
        uid = next(_ids)
        placer = _Placer()
        for cx, cy in _AT.values():
            placer.boxes.append(_LabelBox(cx - BOX_W / 2, cy - BOX_H / 2, cx + BOX_W / 2,
                                     cy + BOX_H / 2))
        pairs: dict[frozenset[str], int] = {}
        edges = []
        for r in self.rules():
            a, b = _node(r.state, False), _node(r.next, True, r.state)
            key = frozenset((a, b))
            n = pairs.get(key, 0)
            pairs[key] = n + 1
            offset = (0, 10, -10, 20, -20)[min(n, 4)]
            edges.append((r, a, b, _edge(_AT[a], _AT[b], offset)))
        numbers: dict[Rule, list[tuple[int, str]]] = {}
        for i, (side, r) in enumerate(self.steps, start=1):
            numbers.setdefault(r, []).append((i, side))
        visited = {_node(r.state, False) for _, r in self.steps}
        visited |= {_node(r.next, True, r.state) for _, r in self.steps}

        out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-states" role="img" '
               f'aria-labelledby="states{uid}-title states{uid}-desc" '
               f'data-steps="{len(self.steps)}" viewBox="0 0 {WIDTH} {HEIGHT + 60}" '
               f'width="{WIDTH}" height="{HEIGHT + 60}" font-size="11" fill="currentColor" '
               f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace">',
               f'<title id="states{uid}-title">{html.escape(self.title)}</title>',
               f'<desc id="states{uid}-desc">{html.escape(self.describe())}</desc>',
               f'<defs><marker id="states{uid}-head" viewBox="0 0 10 10" refX="9" refY="5" '
               f'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
               f'<path d="M0,0L10,5L0,10z" fill="context-stroke"/></marker></defs>']
        labels = []
        badges = []
        for r, _a, _b, (x1, y1, x2, y2) in edges:  # the run's numbers first: they must show
            for k, (i, side) in enumerate(numbers.get(r, [])):
                along = [(x1 + (x2 - x1) * f, y1 + (y2 - y1) * f)
                         for f in (0.2, 0.3, 0.12, 0.4, 0.5, 0.6, 0.7, 0.8)]
                bx, by, _ = placer.place(20, 20, along[k:] + along[:k], step=4)
                c = _DISCS.get(side, _OTHER_DISC)
                badges.append(f'<g class="netlab-step" data-step="{i}"><circle cx="{bx:.1f}" '
                              f'cy="{by:.1f}" r="9" fill="{c}"/><text x="{bx:.1f}" '
                              f'y="{by + 4:.1f}" text-anchor="middle" font-weight="bold" '
                              f'fill="#ffffff">{i}</text></g>')
        for r, _a, _b, (x1, y1, x2, y2) in edges:
            used = numbers.get(r, [])
            colour = SIDES.get(used[0][1], _OTHER) if used else "currentColor"
            width, opacity = (3, 1) if used else (1.3, 0.7)
            out.append(f'<line class="netlab-rule{" netlab-used" if used else ""}" '
                       f'x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                       f'stroke="{colour}" stroke-width="{width}" stroke-opacity="{opacity}" '
                       f'marker-end="url(#states{uid}-head)"><title>'
                       f"{html.escape(r.state.name)} → {html.escape(r.next.name)}: "
                       f"{html.escape(r.label)} ({html.escape(r.source)})</title></line>")
            text = r.label
            w, h = text_width(text, 10) + 6, 14
            along = [(x1 + (x2 - x1) * f, y1 + (y2 - y1) * f + dy)
                     for dy in (0, -9, 9, -18, 18) for f in (0.5, 0.4, 0.6, 0.3, 0.7)]
            cx, cy, _ = placer.place(w, h, along, step=5)
            weight = ' font-weight="bold"' if used else ""
            labels.append(f'<rect class="netlab-bg" x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" '
                          f'width="{w:.1f}" height="{h}" fill="#ffffff" fill-opacity="0.9"/>'
                          f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" '
                          f'font-size="10"{weight}>{html.escape(text)}</text>')
        for name, (cx, cy) in _AT.items():
            state = name.rstrip("*")
            bold = ' font-weight="bold"' if name in visited else ""
            out.append(f'<g class="netlab-state" data-state="{state}">'
                       f'<rect x="{cx - BOX_W / 2}" y="{cy - BOX_H / 2}" width="{BOX_W}" '
                       f'height="{BOX_H}" rx="8" fill="#fff3bf" stroke="#b35900" '
                       f'stroke-width="{2.5 if bold else 1.2}"/>'
                       f'<text x="{cx}" y="{cy + 4}" text-anchor="middle" font-size="12" '
                       f'fill="#5c3c00"{bold}>{state}</text>'
                       f"</g>")
        out += labels + badges
        out += self._legend(HEIGHT + 30)
        out.append("</svg>")
        return "".join(out)

    def _legend(self, y: float) -> list[str]:
        sides = list(dict.fromkeys(side for side, _ in self.steps))
        parts = [f'<g class="netlab-legend"><text x="6" y="{y}" font-size="12" '
                 f'font-weight="bold">{html.escape(tr("Legend"))}</text>']
        x = 6 + text_width(tr("Legend"), 12) + 16
        entries = [(SIDES.get(s, _OTHER), tr("numbered: the {side}'s transitions in this run")
                    .format(side=tr(s))) for s in sides]
        entries.append(("currentColor", tr("an arrow of the diagram this run did not take")))
        for colour, words in entries:
            thin = colour == "currentColor"
            faint = ' stroke-opacity="0.7"' if thin else ""
            parts.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" '
                         f'stroke="{colour}" stroke-width="{1.3 if thin else 3}"'
                         f"{faint}/>"
                         f'<text x="{x + 30}" y="{y}" font-size="11">{html.escape(words)}</text>')
            x += 30 + text_width(words, 11) + 20
            if x > WIDTH - 200:
                x, y = 6, y + 18
        parts.append("</g>")
        return parts

    def __str__(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        label = html.escape(tr("State diagram: {title}").format(title=self.title))
        step = html.escape(tr("{side}: {state} → {next} ({label})"))
        steps = "".join(
            "<li>" + step.format(side=html.escape(tr(side)), state=f"<code>{r.state.name}</code>",
                                 next=f"<code>{r.next.name}</code>",
                                 label=html.escape(r.label)) + "</li>"
            for side, r in self.steps)
        listing = f'<ol class="netlab-steps">{steps}</ol>' if steps else ""
        return (f'<div class="netlab-view"><figure class="netlab-figure">'
                f'<div class="netlab-scroll" tabindex="0" role="group" aria-label="{label}">'
                f"{self.svg()}</div><figcaption>{html.escape(self.title)}</figcaption>"
                f"</figure>{listing}</div>")

