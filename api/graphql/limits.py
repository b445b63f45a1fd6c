"""What a document may cost, measured before validation in one pass over it.

Each fragment is measured once (memoised), so a chain of fragments that spread the next
one twice costs its length, not 2^n; the counts are of the document as executed, with
every spread expanded (capped arithmetic, so the numbers stay small). Past the caps the
document is refused before graphql-core's validation runs: that keeps its
overlapping-fields check, which is quadratic in the fields that share a selection set,
to documents small enough for it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_DEPTH = 12
MAX_ALIASES = 30  # aliased fields as executed
MAX_FIELDS = 500  # fields as executed, every spread expanded
MAX_SPREADS = 100  # fragment spreads as written
MAX_DEFINITIONS = 50  # operations and fragments
MAX_SAME_KEY = 8  # fields with one response key in one selection set, spreads expanded


@dataclass(frozen=True, slots=True)
class Cost:
    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def plus(self, other: Cost) -> Cost:
        return Cost(max(self.depth, other.depth), _cap(self.aliases + other.aliases), _cap(self.fields + other.fields))


def _cap(value: int) -> int:
    # Numbers past every limit need not grow further (a fragment chain could reach 2^n).
    return min(value, MAX_FIELDS + MAX_ALIASES + 1)


_NOTHING: tuple[Cost, Counter[str]] = (Cost(), Counter())


class _Measure:
    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, tuple[Cost, Counter[str]]] = {}
        self.visiting: set[str] = set()
        self.repeated_key: str | None = None

    def selection_set(self, node: SelectionSetNode | None) -> tuple[Cost, Counter[str]]:
        """The cost of a selection set and the response keys at its top level (those of
        inline fragments and spreads included, as graphql-core merges them)."""
        total, keys = Cost(), Counter[str]()
        if node is None:
            return total, keys
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner, _ = self.selection_set(selection.selection_set)
                # Introspection does not count for depth, as with strawberry's depth limiter.
                depth = 0 if selection.name.value.startswith("__") else inner.depth + 1
                total = total.plus(Cost(depth, inner.aliases + (selection.alias is not None), inner.fields + 1))
                keys[(selection.alias or selection.name).value] += 1
                continue
            if isinstance(selection, InlineFragmentNode):
                cost, more = self.selection_set(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                cost, more = self.fragment(selection.name.value)
            else:
                continue
            total = total.plus(cost)
            keys.update(more)
        if self.repeated_key is None:
            key, count = max(keys.items(), key=lambda kv: kv[1], default=("", 0))
            if count > MAX_SAME_KEY:
                self.repeated_key = key
        return total, keys

    def fragment(self, name: str) -> tuple[Cost, Counter[str]]:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:
            return _NOTHING  # unknown or cyclic: validation reports it
        self.visiting.add(name)
        measured = self.selection_set(definition.selection_set)
        self.visiting.discard(name)
        self.memo[name] = measured
        return measured


def _count_spreads(document: DocumentNode) -> int:
    count = 0
    stack: list[SelectionSetNode] = [d.selection_set for d in document.definitions if hasattr(d, "selection_set")]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                count += 1
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                stack.append(selection.selection_set)
    return count


def check(document: DocumentNode) -> list[GraphQLError]:
    """The limits this document breaks (empty when none); linear in its size."""
    if len(document.definitions) > MAX_DEFINITIONS:
        return [GraphQLError(f"The document has more than {MAX_DEFINITIONS} operations and fragments.")]
    if _count_spreads(document) > MAX_SPREADS:
        return [GraphQLError(f"The document has more than {MAX_SPREADS} fragment spreads.")]
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    measure = _Measure(fragments)
    errors: list[GraphQLError] = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        cost, _ = measure.selection_set(operation.selection_set)
        name = f"'{operation.name.value}'" if operation.name else "The operation"
        if cost.depth > MAX_DEPTH:
            errors.append(GraphQLError(f"{name} exceeds maximum operation depth of {MAX_DEPTH}.", operation))
        if cost.aliases > MAX_ALIASES:
            errors.append(GraphQLError(f"{name} has more than {MAX_ALIASES} aliases.", operation))
        if cost.fields > MAX_FIELDS:
            errors.append(GraphQLError(f"{name} selects more than {MAX_FIELDS} fields.", operation))
    if measure.repeated_key is not None:
        errors.append(
            GraphQLError(f"'{measure.repeated_key}' is selected more than {MAX_SAME_KEY} times in one selection set.")
        )
    return errors
