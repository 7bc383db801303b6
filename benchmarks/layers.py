"""The package's layers in figures: modules and lines per layer, the largest modules, and how
many imports run between layers (all of them downwards, or the contract is broken).

Reads the same data as the architecture page (netlab.views.architecture: the import-linter
contract in pyproject.toml and the source files), so it needs no root and runs nothing::

    .venv/bin/python benchmarks/layers.py [--largest 5]

``lint-imports`` is the independent check of the same contract.
"""

from __future__ import annotations

import argparse

from netlab.views.architecture import Architecture


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--largest", type=int, default=5, help="how many of the largest "
                        "modules to list (default 5)")
    args = parser.parse_args()
    arch = Architecture.from_source()
    print(f"{'layer':<16} {'modules':>7} {'lines':>7}  largest module")
    for layer in arch.layers:
        biggest = max(layer.modules, key=lambda m: m.lines)
        print(f"{' | '.join(layer.names):<16} {len(layer.modules):>7} {layer.lines:>7}  "
              f"{biggest.name} ({biggest.lines})")
    total = sum(layer.lines for layer in arch.layers)
    modules = [m for layer in arch.layers for m in layer.modules]
    print(f"{'all':<16} {len(modules):>7} {total:>7}")
    print("\nlargest modules:")
    for m in sorted(modules, key=lambda m: -m.lines)[: args.largest]:
        print(f"  {m.lines:>5}  {m.name}")
    print("\nimports between layers (importing layer → imported layer: modules):")
    names = [" | ".join(layer.names) for layer in arch.layers]
    for (i, j), n in sorted(arch.edges().items()):
        print(f"  {names[i]:<16} → {names[j]:<16} {n:>3}")
    upward = arch.upward()
    print(f"\nupward or sideways imports: {len(upward)}")
    for importer, imported in upward:
        print(f"  {importer} → {imported}")


if __name__ == "__main__":
    main()
