"""Normalisation's transformer kinds (ids, aliases, generated names, tokens, record keys, volatile paths), merged."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

from drs_parity.compare.divergence import pattern_problem
from drs_parity.errors import InputError
from drs_parity.fixtures.normalisation import Normalisation

# The order in which the kinds apply (README "Your ids, tokens and keys", docs/internals.md):
ORDER = (
    "ids",             # 1. ids registered in canonical traversal order: a UUID takes the kind its field names
                       #    (aliases first), then every id pattern (declared ones before the preset's), then
                       #    token fields whose value is no id known by then
    "times",           # 2. in every string and number: times of the run -> <t+S>,
    "generatedNames",  #    names CloudFormation generates -> their group,
    "references",      #    ids -> their reference, tokens -> <token:N>, UUIDs no field named -> <uuid:N>
    "keys",            # 3. records keyed: table items by tableKeys, nested lists by listKeys
    "volatile",        # 4. values at volatile paths -> their marker (on readable paths, as rules see them)
)
TOKEN_KIND = "token"
TOKEN_PREFIX = f"<{TOKEN_KIND}:"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
VOLATILE_MARKER = "<volatile>"


class NormalisationError(InputError):
    """A `normalise:` declaration that cannot be used; one line naming where it was declared."""


@dataclass(frozen=True)
class IdPattern:
    """A generated id found anywhere (whole value or inside text) becomes `<kind:N>`."""

    kind: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class FieldAlias:
    """A UUID in `field` names what `same_as` names (`protectionGroupId` holds a `groupId`): one reference."""

    field: str
    same_as: str


@dataclass(frozen=True)
class VolatilePath:
    """A value at a readable path matching the glob `path` is replaced by `marker` on both sides."""

    path: str
    marker: str = VOLATILE_MARKER


@dataclass(frozen=True)
class RecordKey:
    """Records of `name` (a table, or a field holding a list) keyed by the values of `fields`, joined by `/`."""

    name: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Transformers:
    """Every transformer kind of one run, in the order each kind applies its entries."""

    id_patterns: tuple[IdPattern, ...] = ()
    aliases: tuple[FieldAlias, ...] = ()
    generated_names: tuple[re.Pattern[str], ...] = ()  # group 1 is the stable part kept as `<group>`
    tokens: tuple[str, ...] = ()  # fields holding opaque pagination tokens
    table_keys: tuple[RecordKey, ...] = ()
    list_keys: tuple[RecordKey, ...] = ()
    volatile_paths: tuple[VolatilePath, ...] = ()

    def with_declared(self, declared: Transformers) -> Transformers:
        """This preset with `declared` on top: declared patterns and names first (the more specific match wins),
        declared aliases and keys override the preset's, tokens and volatile paths added."""
        if declared == Transformers():
            return self
        return Transformers(
            id_patterns=unique(declared.id_patterns + self.id_patterns),
            aliases=overridden(self.aliases, declared.aliases, lambda alias: alias.field),
            generated_names=unique(declared.generated_names + self.generated_names),
            tokens=unique(self.tokens + declared.tokens),
            table_keys=overridden(self.table_keys, declared.table_keys, lambda key: key.name),
            list_keys=overridden(self.list_keys, declared.list_keys, lambda key: key.name),
            volatile_paths=unique(self.volatile_paths + declared.volatile_paths),
        )

    def named_values(self) -> dict[str, dict[str, str | tuple[str, ...]]]:
        """The kinds a declaration names entries of (`aliases.<field>`, `tableKeys.<table>`...), by name."""
        return {"aliases": named(self.aliases),
                "tableKeys": {key.name: key.fields for key in self.table_keys},
                "listKeys": {key.name: key.fields for key in self.list_keys}}


def unique(items: Iterable[Any]) -> tuple[Any, ...]:
    """Items in order, each once."""
    return tuple(dict.fromkeys(items))


def overridden(base: tuple[Any, ...], top: tuple[Any, ...], name_of: Callable[[Any], str]) -> tuple[Any, ...]:
    """`base` entries with those `top` names replaced (in place) and `top`'s new ones appended."""
    merged = {name_of(entry): entry for entry in base}
    merged.update({name_of(entry): entry for entry in top})
    return tuple(merged.values())


# -- from the user's declarations (drs_parity.fixtures.normalisation) ------------------------------------------------
def declared_transformers(systems: Sequence[Normalisation | None], run: Normalisation | None = None) -> Transformers:
    """The transformers of both systems' and the rules file's `normalise:` sections, for both sides.

    Normalisation must be symmetric, or it makes divergences of its own: every declaration applies to both sides.
    Patterns, generated names, tokens and volatile paths add up. An alias or key the two systems both declare must
    be the same (else a NormalisationError names both); the rules file's (the run's own) overrides theirs."""
    merged = Transformers()
    for declaration in systems:
        if declaration is not None:
            merged = merged.with_declared(agreeing(merged, declaration))
    return merged.with_declared(transformers_of(run)) if run is not None else merged


def agreeing(merged: Transformers, declaration: Normalisation) -> Transformers:
    """The declaration's transformers, once sure it names no alias or key differently from `merged`."""
    transformers = transformers_of(declaration)
    theirs = transformers.named_values()
    for what, mine in merged.named_values().items():
        for name, value in theirs[what].items():
            if name in mine and mine[name] != value:
                raise NormalisationError(
                    f"{declaration.source}: normalise.{what}.{name}: {shown(value)} disagrees with {shown(mine[name])}"
                    " declared by the other side (normalisation applies to both sides: declare it once, or in the "
                    "rules file)")
    return transformers


def shown(value: str | tuple[str, ...]) -> str:
    """A declared value as the user wrote it."""
    return repr(value if isinstance(value, str) else list(value) if len(value) > 1 else value[0])


def transformers_of(declaration: Normalisation) -> Transformers:
    """One `normalise:` section as transformers (its regular expressions were checked by the fixture parser;
    path globs are checked here, where the glob syntax lives)."""
    for entry in declaration.volatile:
        problem = pattern_problem(entry.path)
        if problem:
            raise NormalisationError(f"{entry.where}: {problem}")
    return Transformers(
        id_patterns=tuple(IdPattern(entry.kind, re.compile(entry.pattern)) for entry in declaration.ids),
        aliases=tuple(FieldAlias(name, same_as) for name, same_as in declaration.aliases),
        generated_names=tuple(re.compile(entry.pattern) for entry in declaration.generated_names),
        tokens=declaration.tokens,
        table_keys=tuple(RecordKey(name, fields) for name, fields in declaration.table_keys),
        list_keys=tuple(RecordKey(name, fields) for name, fields in declaration.list_keys),
        volatile_paths=tuple(VolatilePath(entry.path, entry.marker) for entry in declaration.volatile),
    )


# -- applying them to strings ----------------------------------------------------------------------------------------
class References:
    """Generated id -> `<kind:N>`, numbered per kind in order of first registration."""

    def __init__(self) -> None:
        self._refs: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def get(self, raw: str) -> str | None:
        return self._refs.get(raw)

    def assign(self, raw: str, kind: str) -> str:
        if raw not in self._refs:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._refs[raw] = f"<{kind}:{self._counts[kind]}>"
        return self._refs[raw]

    def mapping(self) -> dict[str, str]:
        return dict(self._refs)


class Identifiers:
    """The id kinds of a set of transformers, compiled: what a string registers, and what it becomes."""

    def __init__(self, transformers: Transformers) -> None:
        self.patterns = tuple((entry.kind, entry.pattern) for entry in transformers.id_patterns)
        self.aliases = named(transformers.aliases)
        self.generated_names = transformers.generated_names
        self.tokens = frozenset(transformers.tokens)
        self.anything = any_of((UUID, *(pattern for _, pattern in self.patterns), *self.generated_names))
        self._may_hold: dict[str, bool] = {}
        self._field_kinds: dict[str | None, str] = {}

    def may_hold_ids(self, text: str) -> bool:
        """Whether any id kind or generated name can match in `text` (most strings hold none: one search)."""
        may = self._may_hold.get(text)
        if may is None:
            may = self._may_hold[text] = self.anything is None or self.anything.search(text) is not None
        return may

    def kind_for_field(self, field_name: str | None) -> str:
        """The reference kind a UUID gets from the field holding it (`groupIds` list -> `groupId`); `uuid` when
        the field names no id."""
        kind = self._field_kinds.get(field_name)
        if kind is None:
            kind = self._field_kinds[field_name] = self._kind_for_field(field_name)
        return kind

    def _kind_for_field(self, field_name: str | None) -> str:
        if not field_name:
            return "uuid"
        name = re.sub(r"^.*[^A-Za-z]", "", field_name)  # tag keys: `drs-orchestration:executionId` -> executionId
        name = self.aliases.get(name, name)
        if name.endswith("Ids"):
            name = name[:-1]
        return self.aliases.get(name, name) if name.endswith("Id") else "uuid"

    def register(self, text: str, field_name: str | None, refs: References) -> bool:
        """Pass 1 on one string under its field: a whole-value UUID the field names, the id patterns anywhere in
        it. True when the string is a token candidate: in a token field, and neither a UUID nor an id."""
        is_id = UUID.fullmatch(text) is not None
        if is_id and self.kind_for_field(field_name) != "uuid":
            refs.assign(text.lower(), self.kind_for_field(field_name))
        if self.may_hold_ids(text):
            for kind, pattern in self.patterns:
                for match in pattern.finditer(text):
                    refs.assign(match.group(0), kind)
                    is_id = is_id or match.group(0) == text
        return field_name in self.tokens and bool(text) and not is_id

    @staticmethod
    def register_token(text: str, refs: References) -> None:
        """After pass 1: a token that is no id known by then becomes `<token:N>`."""
        if refs.get(text) is None:
            refs.assign(text, TOKEN_KIND)

    @staticmethod
    def register_free_text(text: str, refs: References) -> None:
        """Pass 2 on one string: UUIDs no field named get `<uuid:N>`."""
        for match in UUID.finditer(text):
            refs.assign(match.group(0).lower(), "uuid")

    def replace(self, text: str, refs: References) -> str:
        """A string with its generated names and ids replaced; a registered token (the whole value) too."""
        token = refs.get(text)
        if token is not None and token.startswith(TOKEN_PREFIX):
            return token
        if not self.may_hold_ids(text):
            return text
        for pattern in self.generated_names:
            text = pattern.sub(r"<\1>", text)
        text = UUID.sub(lambda m: refs.get(m.group(0).lower()) or m.group(0), text)
        for _, pattern in self.patterns:
            text = pattern.sub(lambda m: refs.get(m.group(0)) or m.group(0), text)
        return text


def any_of(patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One expression matching where any of `patterns` does (None when they cannot be combined, e.g. a pattern
    with global flags: then every string is tried with each)."""
    try:
        return re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns))
    except re.error:
        return None


def named(aliases: tuple[FieldAlias, ...]) -> dict[str, str]:
    return {alias.field: alias.same_as for alias in aliases}
