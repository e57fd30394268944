"""eReuse Workbench reports for the tests: the real samples beside them, and reports made odd from a real one."""

import copy
import json
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples" / "workbench"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def mutations(report: dict):
    """Reports a careless or hostile sender could make from a real one: fields dropped, retyped, emptied."""
    odd_values = [None, "", 0, -1, 1e308, True, [], {}, "x" * 500, "\x00", [None], {"bytes": "many"}]

    def paths(node, prefix=()):
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*prefix, key)
                yield from paths(value, (*prefix, key))
        elif isinstance(node, list):
            for index, value in enumerate(node[:3]):
                yield (*prefix, index)
                yield from paths(value, (*prefix, index))

    for number, path in enumerate(paths(report)):
        if path[-1] == "uuid" and len(path) == 1:
            continue
        for odd in (odd_values[number % len(odd_values)], None):
            mutated = copy.deepcopy(report)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = odd
            yield mutated
            mutated = copy.deepcopy(report)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            if isinstance(parent, dict):
                del parent[path[-1]]
                yield mutated
