#!/usr/bin/env python3
"""Checks that lib/ and tools/ include across directories only along the arrows lib/LAYERS
allows, and that no include cycle joins two directories or two files.

    usage: scripts/check_layers.py [ROOT]   (ROOT: the repository; default: this script's)
           scripts/check_layers.py --closure [ROOT]   (what each layer may reach, for the build)

Every `#include "dir/..."` in lib/ and tools/ is mapped to an arrow between two layers (a lib/
directory, `tools`, or a layer lib/LAYERS gives a header outside lib/). Exit 0 when all follow
allowed arrows; the temporary exceptions it tolerated are printed all the same, so they stay in
sight. Exit 1 with one line per problem: an include the list does not allow (file:line), one it
cannot place, a cycle, an exception that matches nothing any more, a mistake in lib/LAYERS.
Python 3 only, no dependencies: it runs in `make test` on any machine that builds mtool.
"""
import os
import re
import sys

SOURCE_SUFFIXES = (".h", ".hpp", ".c", ".cc", ".cpp")
# Quoted includes only: lib/ includes its own headers with quotes, and an angle include such
# as <net/if.h> is the system's, not lib/net/.
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


class Layers:
    """lib/LAYERS parsed: allowed arrows, headers outside lib/, temporary exceptions."""

    def __init__(self):
        self.allowed = {}  # layer -> set of layers it may include
        self.headers = {}  # include name -> layer
        self.header_lines = {}  # include name -> where lib/LAYERS gives it its layer
        self.exceptions = {}  # (file, include) -> (reason, line in LAYERS)
        self.problems = []


def parse_layers(path):
    layers = Layers()
    comment = []  # the comment block just above the current line: an exception's reason
    reason = ""   # kept across consecutive `except` lines, which share one comment
    previous = ""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    for number, raw in enumerate(lines, 1):
        where = f"lib/LAYERS:{number}"
        line = raw.strip()
        if line.startswith("#"):
            comment.append(line.lstrip("# ").strip())
            continue
        line = line.split("#", 1)[0].strip()
        words = line.split()
        if comment or not (words[:1] == ["except"] and previous == "except"):
            reason = " ".join(c for c in comment if c)
        comment, previous = [], words[0] if words else ""
        if not line:
            continue
        if words[0] == "header" and len(words) == 4 and words[2] == "=":
            layers.headers[words[1]], layers.header_lines[words[1]] = words[3], where
        elif words[0] == "except" and len(words) == 4 and words[2] == "->":
            if not reason:
                layers.problems.append(f"{where}: an exception needs a comment above it saying "
                                       "why, and what must move to remove it")
            layers.exceptions[(words[1], words[3])] = (reason, where)
        elif words[0].endswith(":"):
            name = words[0][:-1]
            if name in layers.allowed:
                layers.problems.append(f"{where}: layer {name} listed twice")
            for dep in words[1:]:
                # Bottom-up: only layers listed above, so the allowed arrows cannot form a cycle.
                if dep not in layers.allowed:
                    layers.problems.append(f"{where}: {name} -> {dep}: {dep} is not listed "
                                           "above it (the list is bottom-up)")
            layers.allowed[name] = set(words[1:])
        else:
            layers.problems.append(f"{where}: cannot read '{raw.strip()}'")
    for name, layer in layers.headers.items():
        if layer not in layers.allowed:
            layers.problems.append(f"{layers.header_lines[name]}: header {name} given to "
                                   f"unknown layer {layer}")
    return layers


def source_files(root):
    """(path relative to root, layer) for every source file in lib/ and tools/."""
    for top in ("lib", "tools"):
        base = os.path.join(root, top)
        for directory, subdirs, files in os.walk(base):
            subdirs.sort()
            for name in sorted(files):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                rel = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
                parts = rel.split("/")
                if top == "tools":
                    yield rel, "tools"
                elif len(parts) >= 3:
                    yield rel, parts[1]
                else:
                    yield rel, None  # directly in lib/: belongs to no layer


def target_layer(include, layers, lib_dirs):
    if include in layers.headers:
        return layers.headers[include]
    first = include.split("/", 1)[0]
    if "/" in include and first in lib_dirs:
        return first
    return None


def find_cycles(edges):
    """Strongly connected components of more than one node (Tarjan), each as a sorted list."""
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return cycles


def shortest_cycle(component, edges):
    """One shortest cycle through the first node of a strongly connected component (breadth
    first), as a path that ends where it starts: enough to show where to cut."""
    start = component[0]
    parent = {start: None}
    queue = [start]
    for node in queue:
        for nxt in sorted(edges.get(node, ())):
            if nxt == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return path[::-1] + [start]
            if nxt in component and nxt not in parent:
                parent[nxt] = node
                queue.append(nxt)
    return component + [start]  # not reached: a component of two or more has a cycle


def check(root):
    """Returns (problems, tolerated): lines to print."""
    layers_path = os.path.join(root, "lib", "LAYERS")
    layers = parse_layers(layers_path)
    problems, tolerated = list(layers.problems), []
    lib = os.path.join(root, "lib")
    lib_dirs = {d for d in os.listdir(lib) if os.path.isdir(os.path.join(lib, d))}
    for d in sorted(lib_dirs - set(layers.allowed)):
        problems.append(f"lib/{d}/: a directory lib/LAYERS does not list")
    used_exceptions = set()
    arrows = {}  # (from layer, to layer) -> first "file:line" that draws it
    file_edges = {}  # file -> lib/ files it includes: cycles inside a directory count too
    for rel, layer in source_files(root):
        if layer is None:
            problems.append(f"{rel}: a file directly in lib/ belongs to no layer")
            continue
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for number, text in enumerate(f, 1):
                match = INCLUDE.match(text)
                if not match:
                    continue
                include, where = match.group(1), f"{rel}:{number}"
                if os.path.isfile(os.path.join(lib, include)):
                    file_edges.setdefault(rel, set()).add(f"lib/{include}")
                target = target_layer(include, layers, lib_dirs)
                if target is None:
                    problems.append(f"{where}: \"{include}\" is in no layer (name its directory, "
                                    "or give the header a layer in lib/LAYERS)")
                    continue
                if target == layer:
                    continue
                arrows.setdefault((layer, target), where)
                if target in layers.allowed.get(layer, ()):
                    continue
                if (rel, include) in layers.exceptions:
                    used_exceptions.add((rel, include))
                    reason, defined = layers.exceptions[(rel, include)]
                    tolerated.append(f"{where}: tolerated for now ({defined}): {reason}")
                    continue
                problems.append(f"{where}: {layer} -> {target} is not an allowed arrow "
                                f"(\"{include}\"; lib/LAYERS)")
    for key, (_, where) in sorted(layers.exceptions.items(), key=lambda kv: kv[1][1]):
        if key not in used_exceptions:
            problems.append(f"{where}: exception {key[0]} -> {key[1]} matches no include "
                            "that needs it any more: remove it")
    edges = {}
    for source, target in arrows:
        edges.setdefault(source, set()).add(target)
    for component in find_cycles(edges):
        path = shortest_cycle(component, edges)
        evidence = "; ".join(f"{a} -> {b} at {arrows[(a, b)]}" for a, b in zip(path, path[1:]))
        problems.append(f"cycle {' -> '.join(path)}: {evidence}")
    for component in find_cycles(file_edges):
        problems.append(f"include cycle {' -> '.join(shortest_cycle(component, file_edges))}")
    return problems, tolerated


def include_closure(root):
    """For the build (lib/CMakeLists.txt): every layer with the layers its files may reach
    through includes, its own arrows and its tolerated exceptions followed transitively (a
    header it includes includes its own layers). One line per layer: `name=dep,dep,...`."""
    layers = parse_layers(os.path.join(root, "lib", "LAYERS"))
    if layers.problems:
        raise SystemExit("\n".join(layers.problems))
    direct = {name: set(deps) for name, deps in layers.allowed.items()}
    for (rel, include), _ in layers.exceptions.items():
        parts = rel.split("/")
        source = "tools" if parts[0] == "tools" else parts[1]
        target = layers.headers.get(include, include.split("/", 1)[0])
        direct.setdefault(source, set()).add(target)
    lines = []
    for name in layers.allowed:
        reach, todo = set(), list(direct[name])
        while todo:
            dep = todo.pop()
            if dep not in reach:
                reach.add(dep)
                todo.extend(direct.get(dep, ()))
        lines.append(f"{name}={','.join(sorted(reach))}")
    return lines


def main(argv):
    if len(argv) > 1 and argv[1] == "--closure":
        root = argv[2] if len(argv) > 2 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        print("\n".join(include_closure(root)))
        return 0
    root = argv[1] if len(argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems, tolerated = check(root)
    for line in tolerated:
        print(line)
    for line in problems:
        print(line)
    if problems:
        print(f"check_layers: {len(problems)} problem(s); the arrows are in lib/LAYERS")
        return 1
    print(f"check_layers: every include follows lib/LAYERS "
          f"({len(tolerated)} temporary exception(s) tolerated)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
