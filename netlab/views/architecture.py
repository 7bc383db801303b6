"""The package drawn from itself: its layers, what each holds, and which way imports run.

:meth:`Architecture.from_source` reads the layers from the import-linter contract in
``pyproject.toml`` (the same list ``lint-imports`` enforces) and the modules and their
imports from netlab's own source files (parsed with Python's ``ast``, nothing is imported).
So the figure on the architecture page cannot drift from the code: a new module appears in
its layer, and an import that runs upward is listed by :meth:`Architecture.upward` (the page
asserts there is none).

:func:`data_path` is the second figure: the modules one experiment's data passes through,
from the capture to the page, each checked to exist.
"""

from __future__ import annotations

import ast
import html
import itertools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from netlab.i18n import tr
from netlab.views.table import text_width

__all__ = ["Architecture", "Layer", "Module", "DataStep", "data_path", "PACKAGE"]

#: The folder of the netlab package this module belongs to.
PACKAGE = Path(__file__).resolve().parent.parent

FONT = 13
SMALL = 11
ROW_PAD = 8
LEFT = 150  # the layer names' column
WIDTH = 860
_ids = itertools.count(1)

#: What each layer is for, in a few words (translated when drawn).
PURPOSE = {
    "__main__": "python -m netlab",
    "cli": "the netlab command",
    "experiments": "one folder per chapter; each experiment returns a Result with its facts",
    "views": "tables, SVG figures, the packet inspector, downloads",
    "lab": "hosts, links and captures composed from the kernel's pieces",
    "analysis": "captures read: segments, traces, state timelines, HTTP and TLS",
    "proto": "HTTP/1.1, HTTP/2, TLS, WebSocket, heartbeats, framing: over any socket",
    "kernel": "namespaces, veth, the wire, nftables, AF_PACKET, pcap, sock_diag, TCP_INFO",
    "model": "TCP's states and RFC 9293's transitions, as data",
    "errors": "the exception hierarchy",
    "i18n": "the words of the page's language",
}


@dataclass(frozen=True, kw_only=True)
class Module:
    """One source file of the package."""

    name: str
    """Dotted name (``netlab.analysis.trace``)."""
    lines: int
    imports: frozenset[str]
    """The netlab modules (or packages) it imports, dotted."""


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One layer of the contract: one or more sibling packages or modules."""

    names: tuple[str, ...]
    """The siblings, relative to ``netlab`` (``("errors", "i18n")``)."""
    modules: tuple[Module, ...]

    @property
    def lines(self) -> int:
        return sum(m.lines for m in self.modules)

    def holds(self, module: str) -> bool:
        """Whether the dotted ``module`` belongs to this layer."""
        return any(module == f"netlab.{n}" or module.startswith(f"netlab.{n}.")
                   for n in self.names)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module, name: str, is_package: bool) -> frozenset[str]:
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.startswith("netlab"):
                found.add(target)
                found.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("netlab"))
    return frozenset(found)


class Architecture:
    """The layers of the contract, filled with the package's modules."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = tuple(layers)

    @classmethod
    def from_source(cls, package: Path = PACKAGE,
                    pyproject: Path | None = None) -> Architecture:
        """Read the contract from ``pyproject.toml`` and the modules from ``package``."""
        pyproject = pyproject or package.parent / "pyproject.toml"
        config = tomllib.loads(pyproject.read_text())
        [contract] = [c for c in config["tool"]["importlinter"]["contracts"]
                      if c["type"] == "layers"]
        modules = []
        for path in sorted(package.rglob("*.py")):
            name = _module_name(path, package)
            text = path.read_text()
            tree = ast.parse(text)
            modules.append(Module(name=name, lines=len(text.splitlines()),
                                  imports=_imports(tree, name, path.name == "__init__.py")))
        known = {m.name for m in modules}

        def resolve(target: str) -> str:  # a name imported from a module is that module
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            return target

        modules = [Module(name=m.name, lines=m.lines,
                          imports=frozenset(resolve(t) for t in m.imports) - {m.name})
                   for m in modules]
        layers = []
        for entry in contract["layers"]:
            names = tuple(n.strip() for n in entry.replace(":", "|").split("|"))
            layer = Layer(names=names, modules=())
            layers.append(Layer(names=names, modules=tuple(m for m in modules
                                                           if layer.holds(m.name))))
        return cls(layers)

    def layer_of(self, module: str) -> int | None:
        """The index of the layer ``module`` belongs to (0 is the top), or None."""
        return next((i for i, layer in enumerate(self.layers) if layer.holds(module)), None)

    def _sibling(self, module: str) -> str | None:
        return next((n for layer in self.layers for n in layer.names
                     if module == f"netlab.{n}" or module.startswith(f"netlab.{n}.")), None)

    def upward(self) -> list[tuple[str, str]]:
        """Every (importer, imported) pair the contract forbids: an import from a higher
        layer, or from an independent sibling in the same layer."""
        bad = []
        for i, layer in enumerate(self.layers):
            for m in layer.modules:
                for target in sorted(m.imports):
                    j = self.layer_of(target)
                    if j is None:
                        continue
                    if j < i or (j == i and self._sibling(target) != self._sibling(m.name)):
                        bad.append((m.name, target))
        return bad

    def edges(self) -> dict[tuple[int, int], int]:
        """How many module imports run from one layer to another (by index)."""
        count: dict[tuple[int, int], int] = {}
        for i, layer in enumerate(self.layers):
            for m in layer.modules:
                targets = {self.layer_of(t) for t in m.imports if t in self._names}
                for j in targets - {None, i}:
                    assert j is not None
                    count[(i, j)] = count.get((i, j), 0) + 1
        return count

    @property
    def _names(self) -> set[str]:
        return {m.name for layer in self.layers for m in layer.modules}

    # -- drawing ---------------------------------------------------------------------------

    def _rows(self) -> list[tuple[Layer, list[str], str]]:
        """Each layer with its modules' short names wrapped into lines, and its summary."""
        rows = []
        for layer in self.layers:
            short = [m.name.removeprefix("netlab.") for m in layer.modules
                     if not m.name.endswith(".__init__")]
            lines, line = [], ""
            for name in short:
                candidate = f"{line}  {name}" if line else name
                if text_width(candidate, SMALL) > WIDTH - LEFT - 24 and line:
                    lines.append(line)
                    line = name
                else:
                    line = candidate
            if line:
                lines.append(line)
            summary = tr("{modules} modules, {lines} lines").format(
                modules=len(layer.modules), lines=f"{layer.lines:,}")
            rows.append((layer, lines, summary))
        return rows

    def svg(self) -> str:
        """The layers as a standalone ``<svg>``: top to bottom, each with its modules."""
        uid = next(_ids)
        rows = self._rows()
        y = 10.0
        body = []
        for k, (layer, lines, summary) in enumerate(rows):
            h = ROW_PAD * 2 + FONT + 6 + len(lines) * (SMALL + 4)
            name = " | ".join(layer.names)
            purpose = tr("; ").join(tr(PURPOSE[n]) for n in layer.names if n in PURPOSE)
            body.append(f'<g class="netlab-layer"><rect x="4" y="{y:.0f}" width="{WIDTH - 8}" '
                        f'height="{h:.0f}" rx="6" fill="none" stroke="currentColor" '
                        f'stroke-opacity="0.55"/>'
                        f'<text x="14" y="{y + ROW_PAD + FONT:.0f}" font-weight="bold">'
                        f'{html.escape(name)}</text>'
                        f'<text x="14" y="{y + ROW_PAD + FONT + 6 + SMALL:.0f}" '
                        f'font-size="{SMALL}">{html.escape(summary)}</text>'
                        f'<text x="{LEFT}" y="{y + ROW_PAD + FONT:.0f}">'
                        f'{html.escape(purpose)}</text>')
            for n, line in enumerate(lines):
                ty = y + ROW_PAD + FONT + 6 + (n + 1) * (SMALL + 4)
                body.append(f'<text x="{LEFT}" y="{ty:.0f}" font-size="{SMALL}" '
                            f'font-family="ui-monospace, monospace">{html.escape(line)}</text>')
            body.append("</g>")
            y += h
            if k < len(rows) - 1:
                body.append(f'<path d="M{WIDTH / 2:.0f},{y + 1:.0f} l0,10 m-5,-5 l5,5 l5,-5" '
                            f'fill="none" stroke="currentColor"/>')
                y += 12
        height = y + 10
        title = tr("netlab's layers, read from its source: each imports only from below")
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="netlab-architecture" role="img" '
                f'viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
                f'aria-labelledby="arch{uid}-title arch{uid}-desc" font-size="{FONT}" '
                f'fill="currentColor" font-family="system-ui, sans-serif">'
                f'<title id="arch{uid}-title">{html.escape(title)}</title>'
                f'<desc id="arch{uid}-desc">{html.escape(self.describe())}</desc>'
                + "".join(body) + "</svg>")

    def describe(self) -> str:
        """The text alternative: the layers from top to bottom with their sizes."""
        parts = [tr("{layer}: {modules} modules, {lines} lines").format(
            layer=" | ".join(layer.names), modules=len(layer.modules), lines=f"{layer.lines:,}")
            for layer in self.layers]
        return tr("From top to bottom: {layers}.").format(layers=tr("; ").join(parts))

    def __str__(self) -> str:
        return "\n".join(f"{' | '.join(layer.names):<16} {len(layer.modules):>3} modules "
                         f"{layer.lines:>6} lines" for layer in self.layers)

    def _repr_html_(self) -> str:
        return f'<figure class="netlab-figure">{self.svg()}</figure>'


@dataclass(frozen=True, kw_only=True)
class DataStep:
    """One module the data passes through, and what it makes of it."""

    module: str
    name: str
    """The function or class that does the step."""
    makes: str
    """What comes out, in English (translated when drawn)."""


def data_path(steps: Sequence[DataStep], architecture: Architecture) -> str:
    """The steps as an SVG column of boxes, each labelled with its layer; each step's module
    must exist in the package (so the figure fails the build when the code moves)."""
    uid = next(_ids)
    box_h, gap, width = 46, 16, WIDTH
    out = []
    y = 10
    for i, step in enumerate(steps):
        j = architecture.layer_of(step.module)
        if j is None or step.module not in architecture._names:
            raise LookupError(f"{step.module} is not a module of the package")
        layer = " | ".join(architecture.layers[j].names)
        out.append(f'<rect x="4" y="{y}" width="{width - 8}" height="{box_h}" rx="6" fill="none" '
                   f'stroke="currentColor" stroke-opacity="0.55"/>'
                   f'<text x="14" y="{y + 19}" font-weight="bold">{html.escape(layer)}</text>'
                   f'<text x="{LEFT}" y="{y + 19}" font-family="ui-monospace, monospace">'
                   f'{html.escape(step.module.removeprefix("netlab."))}.{html.escape(step.name)}'
                   f'</text><text x="{LEFT}" y="{y + 37}" font-size="{SMALL}">'
                   f'{html.escape(tr(step.makes))}</text>')
        y += box_h
        if i < len(steps) - 1:
            out.append(f'<path d="M{width / 2:.0f},{y + 2} l0,{gap - 4} m-5,-5 l5,5 l5,-5" '
                       f'fill="none" stroke="currentColor"/>')
            y += gap
    title = tr("One experiment's data, from the capture to the page")
    desc = tr("; ").join(f"{s.module.removeprefix('netlab.')}.{s.name}: {tr(s.makes)}"
                         for s in steps)
    return (f'<figure class="netlab-figure"><svg xmlns="http://www.w3.org/2000/svg" '
            f'class="netlab-architecture" role="img" viewBox="0 0 {width} {y + 10}" '
            f'width="{width}" height="{y + 10}" aria-labelledby="path{uid}-title path{uid}-desc" '
            f'font-size="{FONT}" fill="currentColor" font-family="system-ui, sans-serif">'
            f'<title id="path{uid}-title">{html.escape(title)}</title>'
            f'<desc id="path{uid}-desc">{html.escape(desc)}</desc>' + "".join(out)
            + "</svg></figure>")
