"""Connected components by alternating large-star / small-star steps.

Kiveris et al., "Connected Components in MapReduce and Beyond" (SoCC 2014).
Nodes are totally ordered (here: keeper ranks, see :mod:`dedup.keeper`). Edges
are stored as ``(child, parent)`` with ``child > parent``. One round is:

* **large-star** at node ``u`` (grouped with *all* its neighbours): let ``m`` be
  the minimum of ``u`` and its neighbours; link every neighbour larger than
  ``u`` to ``m``;
* **small-star** at node ``u`` (grouped with its *smaller* neighbours): let
  ``m`` be the minimum of ``u`` and those; link them and ``u`` to ``m``.

Both keep the connectivity and every component converges, in O(log n) rounds
in practice, to a star whose centre is the component's minimum, i.e. its
keeper. A round changed nothing iff no node had both smaller and larger
neighbours (large-star) and no node had two or more smaller neighbours
(small-star): that is the convergence test, evaluated per node, so no step
ever needs a global view of the graph.

The per-node functions here are what the Beam ``DoFn``s call; the pure-Python
drivers (:func:`star_components`, :func:`union_find_components`) are the test
reference.
"""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Iterator


def reiterable(values: Iterable[Any]) -> Iterable[Any]:
    """``values`` itself if it can be iterated again (a list, Beam's grouped
    values), else a list of it: the steps here read their input twice.

    >>> it = iter([1, 2]); reiterable(it)
    [1, 2]
    >>> x = [1]; reiterable(x) is x
    True
    """
    return list(values) if iter(values) is values else values


def large_star(u: Any, neighbours: Iterable[Any]) -> tuple[Iterator[tuple[Any, Any]], bool]:
    """Large-star step at one node, in two passes over ``neighbours`` and O(1) memory.

    Args:
        u: The node.
        neighbours: All neighbours of ``u`` (both directions; repeats allowed),
            a re-iterable (Beam's grouped values are): at the centre of a big
            component it holds the whole component, so it is never copied.

    Returns:
        ``(edges, changed)``: the new ``(child, parent)`` edges (an iterator for
        the second pass; a neighbour repeated in the input may give a repeated
        edge, which the next steps tolerate), and whether they differ from the
        input edges of ``u``.

    >>> edges, changed = large_star(2, [1, 3, 4, 3])
    >>> sorted(set(edges)), changed
    ([(3, 1), (4, 1)], True)
    >>> edges, changed = large_star(1, [3, 2])
    >>> sorted(edges), changed
    ([(2, 1), (3, 1)], False)
    """
    neighbours = reiterable(neighbours)
    m, has_larger = u, False
    for v in neighbours:
        if v < m:
            m = v
        elif v > u:
            has_larger = True
    return ((v, m) for v in neighbours if v > u), (m != u and has_larger)


def small_star(u: Any, smaller: Iterable[Any]) -> tuple[Iterator[tuple[Any, Any]], bool]:
    """Small-star step at one node, in two passes over ``smaller`` and O(1) memory.

    Args:
        u: The node.
        smaller: Its neighbours smaller than ``u`` (repeats allowed; re-iterable).

    Returns:
        ``(edges, changed)``: the new edges (an iterator; ``(u, m)`` once, and
        ``(v, m)`` per occurrence of every other smaller neighbour ``v``) and
        whether ``u`` had two or more distinct smaller neighbours (only then do
        edges move).

    >>> edges, changed = small_star(5, [3, 1])
    >>> sorted(edges), changed
    ([(3, 1), (5, 1)], True)
    >>> edges, changed = small_star(5, [1, 1])
    >>> sorted(edges), changed
    ([(5, 1)], False)
    """
    smaller = reiterable(smaller)
    m, first, distinct = u, None, 1
    for v in smaller:
        if first is None:
            first = v
        elif distinct == 1 and v != first:
            distinct = 2
        if v < m:
            m = v
    if first is None:
        distinct = 0

    def edges() -> Iterator[tuple[Any, Any]]:
        if u != m:
            yield (u, m)
        for v in smaller:
            if v != m:
                yield (v, m)

    return edges(), distinct >= 2


def star_components(edges: Iterable[tuple[Any, Any]], max_rounds: int = 50) -> tuple[dict[Any, Any], int, bool]:
    """Run the alternating algorithm in memory (reference for tests).

    Args:
        edges: Undirected edges as pairs of comparable nodes.
        max_rounds: Round limit.

    Returns:
        ``(label, rounds, converged)``: ``label[v]`` is the parent of each
        non-root node after the last round (the component minimum if
        converged), the number of rounds run, and whether the last round
        changed nothing.

    >>> label, rounds, ok = star_components([(1, 2), (2, 3), (3, 4)])
    >>> label, ok
    ({2: 1, 3: 1, 4: 1}, True)
    """
    cur = {(max(a, b), min(a, b)) for a, b in edges if a != b}
    rounds = 0
    converged = False
    while rounds < max_rounds:
        rounds += 1
        adj: dict[Any, list] = {}
        for c, p in cur:
            adj.setdefault(c, []).append(p)
            adj.setdefault(p, []).append(c)
        changed = False
        nxt = set()
        for u, nb in adj.items():
            out, ch = large_star(u, nb)
            nxt.update(out)
            changed |= ch
        smaller: dict[Any, list] = {}
        for c, p in nxt:
            smaller.setdefault(c, []).append(p)
        cur = set()
        for u, nb in smaller.items():
            out, ch = small_star(u, nb)
            cur.update(out)
            changed |= ch
        if not changed:
            converged = True
            break
    label: dict[Any, Any] = {}
    for c, p in cur:
        if c not in label or p < label[c]:
            label[c] = p
    return dict(sorted(label.items())), rounds, converged


def union_find_components(edges: Iterable[tuple[Hashable, Hashable]]) -> dict[Hashable, Hashable]:
    """Map each node of an edge list to the minimum node of its component.

    >>> union_find_components([(3, 2), (2, 1), (7, 9)])
    {1: 1, 2: 1, 3: 1, 7: 7, 9: 7}
    """
    parent: dict = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    return {x: find(x) for x in sorted(parent)}


def iter_pairs_to_both_directions(edge: tuple[Any, Any]) -> Iterator[tuple[Any, Any]]:
    """Key an undirected edge by both endpoints (input of the large-star step).

    >>> list(iter_pairs_to_both_directions((2, 1)))
    [(2, 1), (1, 2)]
    """
    a, b = edge
    yield (a, b)
    yield (b, a)
