"""Walks over the CMDB's relations: what an item needs (upstream) and what needs it
(downstream), with a depth limit and safe on cycles.

A relation reads "source <kind> target": the checkout service depends-on the database, the
database runs-on a host. Upstream of an item are the targets of its depends-on and runs-on
relations, transitively; downstream the sources pointing at it. One query per level of the
walk, whatever the number of items on it. Monitoring's upstream suppression and maintenance
windows use it; the configuration issue extends it with redundancy.
"""

from __future__ import annotations

from collections.abc import Iterable

from sustain.cmdb.models import Relation

NEEDS = (Relation.Kind.DEPENDS_ON, Relation.Kind.RUNS_ON)
DEPTH = 5


def upstream(item_ids: Iterable[int], depth: int = DEPTH) -> dict[int, int]:
    """The items the given ones need, directly or through others: {item id: distance}."""
    return _walk(set(item_ids), depth, down=False)


def downstream(item_ids: Iterable[int], depth: int = DEPTH) -> dict[int, int]:
    """The items that need the given ones, directly or through others: {item id: distance}."""
    return _walk(set(item_ids), depth, down=True)


def _walk(start: set[int], depth: int, *, down: bool) -> dict[int, int]:
    seen: dict[int, int] = {}
    frontier = set(start)
    visited = set(start)
    for distance in range(1, max(depth, 0) + 1):
        if not frontier:
            break
        rows = Relation.objects.filter(kind__in=NEEDS)
        if down:
            found = set(rows.filter(target_id__in=frontier).values_list("source_id", flat=True))
        else:
            found = set(rows.filter(source_id__in=frontier).values_list("target_id", flat=True))
        frontier = found - visited
        visited |= frontier
        for item_id in frontier:
            seen[item_id] = distance
    return seen


def downstream_of_each(groups: dict[int, set[int]], depth: int = DEPTH) -> dict[int, set[int]]:
    """For each group of items (a window's, say): the items themselves and all that need
    them. One query per level of the walk for all the groups together."""
    edges: dict[int, set[int]] = {}  # target -> the sources that need it
    frontier = set().union(*groups.values()) if groups else set()
    visited = set(frontier)
    for _ in range(max(depth, 0)):
        if not frontier:
            break
        rows = Relation.objects.filter(kind__in=NEEDS, target_id__in=frontier)
        found: set[int] = set()
        for target, source in rows.values_list("target_id", "source_id"):
            edges.setdefault(target, set()).add(source)
            found.add(source)
        frontier = found - visited
        visited |= frontier
    reached: dict[int, set[int]] = {}
    for key, start in groups.items():
        seen, level = set(start), set(start)
        for _ in range(max(depth, 0)):
            level = {s for t in level for s in edges.get(t, ())} - seen
            if not level:
                break
            seen |= level
        reached[key] = seen
    return reached
