"""Sort keys independent of generated ids: a record's canonical JSON with its ids and tokens masked, value by value."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

from drs_parity.compare.sharing import ObjectMemo
from drs_parity.compare.transformers import TOKEN_KIND, UUID, Identifiers

TOKEN_MASK = f"<{TOKEN_KIND}>"
LITERAL_TYPES = frozenset((type(None), bool, int, float))  # leaves written as JSON literals


class Unmaskable(Exception):
    """Masking would change a key or a value that is not a string: the record's whole text is masked instead."""


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


class Masks:
    """A record's sort key: its canonical JSON with every generated id masked by its kind (`<id>` for a UUID) and
    every token masked, so records order alike on both sides and references number alike. Each string is masked
    once, as its JSON literal (the text it is inside the record's JSON), so a record costs one walk, not a scan of
    its whole text per id kind."""

    def __init__(self, ids: Identifiers) -> None:
        self.ids = ids
        self.kinds = {f"mask_{index}": f"<{kind}>" for index, kind in enumerate(("id", *(k for k, _ in ids.patterns)))}
        self.one_scan = named_alternatives(list(self.kinds), (UUID, *(pattern for _, pattern in ids.patterns)))
        self.keys: ObjectMemo[str] = ObjectMemo()
        self.containers: ObjectMemo[Any] = ObjectMemo()
        self.strings: dict[str, str] = {}
        self.literals: dict[tuple[type, Any], bool] = {}  # whether a number's (or bool's, null's) text holds an id
        self.shapes: dict[tuple[Any, ...], bool] = {}  # a record's keys -> whether masking leaves them as they are

    def keys_of(self, records: list[Any]) -> list[str]:
        """Each record's sort key (a record a step repeats keeps the key it had)."""
        return self.keys.each(records, self.computed)

    def computed(self, record: Any) -> str:
        try:
            return canonical_json(self.value(record))
        except Unmaskable:
            return self.text(canonical_json(self.without_tokens(record)))

    def value(self, value: Any) -> Any:
        if isinstance(value, (dict, list, tuple)):
            return self.containers.get(value, self.container)
        if isinstance(value, str):
            return self.string(value)
        if value is None or isinstance(value, (bool, int, float)):
            holds = self.literals.get((type(value), value))
            if holds is None:
                holds = self.literals[(type(value), value)] = self.text(json.dumps(value)) != json.dumps(value)
            if holds:
                raise Unmaskable
            return value
        raise Unmaskable  # written as str(value): the text has it

    def container(self, value: Any) -> Any:
        """A container's masked copy (remembered: a shared repeat is masked once)."""
        if isinstance(value, dict):
            if not self.keys_unmasked(value):
                raise Unmaskable
            result, strings, tokens, literals = {}, self.strings, self.ids.tokens, self.literals
            for key, item in value.items():
                kind = type(item)
                if kind is str:
                    masked = strings.get(item)
                    result[key] = TOKEN_MASK if key in tokens else masked if masked is not None else self.string(item)
                elif kind in LITERAL_TYPES and literals.get((kind, item)) is False:
                    result[key] = item  # a number (or null, bool) known to hold no id
                else:
                    result[key] = self.value(item)
            return result
        return [self.value(item) for item in value]

    def keys_unmasked(self, record: dict[Any, Any]) -> bool:
        """Whether masking leaves every key of the record as it is (remembered per set of keys: records repeat it)."""
        names = tuple(record)
        unmasked = self.shapes.get(names)
        if unmasked is None:
            unmasked = self.shapes[names] = all(isinstance(key, str) and self.string(key) == key for key in names)
        return unmasked

    def string(self, text: str) -> str:
        """The string whose JSON literal is this string's literal, masked."""
        masked = self.strings.get(text)
        if masked is None and text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
            masked = self.strings[text] = self.text(text)  # its JSON literal is itself in quotes: masked alike
        if masked is None:
            literal = json.dumps(text)
            masked_literal = self.text(literal)
            try:
                masked = text if masked_literal == literal else json.loads(masked_literal)
            except ValueError:  # a pattern took a quote or a backslash away
                raise Unmaskable from None
            if not isinstance(masked, str):
                raise Unmaskable
            self.strings[text] = masked
        return masked

    def without_tokens(self, value: Any) -> Any:
        """The value with every token field's text masked."""
        if isinstance(value, dict):
            return {key: TOKEN_MASK if key in self.ids.tokens and isinstance(item, str) else self.without_tokens(item)
                    for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.without_tokens(item) for item in value]
        return value

    def text(self, text: str) -> str:
        """The text with every generated id masked: in one scan, leftmost match first, the UUID then the patterns
        in order at one place (none of the preset's overlap); pattern after pattern where they cannot be combined."""
        if not self.ids.may_hold_ids(text):
            return text
        if self.one_scan is not None:
            return self.one_scan.sub(lambda match: self.kinds[str(match.lastgroup)], text)
        text = UUID.sub("<id>", text)
        for kind, pattern in self.ids.patterns:
            text = pattern.sub(f"<{kind}>", text)
        return text


def named_alternatives(names: list[str], patterns: Iterable[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One expression whose match names the pattern that matched (None when a pattern refers to its own groups by
    number or name, which combining would break, or has flags that cannot be combined)."""
    sources = [pattern.pattern for pattern in patterns]
    if any(re.search(r"\\[1-9]|\(\?P=", source) for source in sources):
        return None
    try:
        return re.compile("|".join(f"(?P<{name}>{source})" for name, source in zip(names, sources)))
    except re.error:
        return None
