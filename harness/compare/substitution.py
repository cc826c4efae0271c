"""Stable references for one timeline: ids registered in canonical traversal order, then every time and id replaced."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from drs_parity.compare.sharing import ObjectMemo
from drs_parity.compare.transformers import UUID, Identifiers, References

TableKey = str | tuple[str, ...]  # a record key: a field, or fields joined by "/"
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")
REFERENCE_TEXT = re.compile(r"^<([A-Za-z]+):(\d+)>$")
WINDOW_BEFORE = 3600  # seconds before the clock start still counted as "this run"
WINDOW_AFTER = 86400  # seconds after the last step


def fields_of(key: TableKey) -> tuple[str, ...]:
    return (key,) if isinstance(key, str) else tuple(key)


def reference_order(text: str) -> tuple[str, int]:
    kind, number = REFERENCE_TEXT.match(text).groups()  # type: ignore[union-attr]
    return kind, int(number)


# -- times -----------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeWindow:
    """Epoch seconds that belong to this run become `<t+S>` relative to the shared clock start."""

    start: int
    end: int

    def contains(self, epoch: float) -> bool:
        return self.start - WINDOW_BEFORE <= epoch <= self.end + WINDOW_AFTER

    def relative(self, epoch: float) -> str:
        offset = int(epoch) - self.start
        return f"<t{'+' if offset >= 0 else '-'}{abs(offset)}>"


def parse_iso(text: str) -> float | None:
    if not ISO_TIME.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:  # naive times in captures are UTC (the virtual clock is UTC)
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def time_leaf(value: Any, window: TimeWindow) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and window.contains(value):
        return window.relative(value)
    if isinstance(value, str):
        epoch = parse_iso(value)
        if epoch is not None and window.contains(epoch):
            return window.relative(epoch)
    return value


# -- references: registration in canonical traversal order, then substitution ----------------------------------------
class Registration:
    """Pass 1 (ids by field and pattern, then tokens) and pass 2 (UUIDs in free text) over the steps' sections in
    canonical traversal order. A container already walked (a repeat, shared) registers nothing new and is skipped;
    pass 2 reads the distinct strings pass 1 met, in the order it met them (the order of a second walk)."""

    def __init__(self, ids: Identifiers, refs: References) -> None:
        self.ids, self.refs = ids, refs
        self.walked: dict[tuple[int, str | None], Any] = {}  # (id, field) -> a list walked, kept alive
        self.walked_records: dict[int, Any] = {}  # id -> a dict walked, kept alive (its field names its strings)
        self.strings: dict[str, bool] = {}  # distinct strings in order of appearance -> whether a whole UUID
        self.tokens: dict[str, None] = {}  # token candidates in order of first appearance
        self.registered: set[tuple[str, str | None]] = set()  # (string, field) registered, where the field matters

    def first_walk(self, container: Any, field_name: str | None) -> bool:
        """True the first time; a list's strings register by the field holding it, so a list counts per field."""
        key = (id(container), field_name)
        if key in self.walked:
            return False
        self.walked[key] = container
        return True

    def structured(self, value: Any, field_name: str | None = None) -> None:
        """Walk `value` (held by `field_name`); leaves are handled in the loop, the costliest place to call."""
        if isinstance(value, dict):
            if id(value) not in self.walked_records:
                self.walked_records[id(value)] = value
                strings, tokens = self.strings, self.ids.tokens
                for key, item in value.items():
                    if isinstance(item, str):
                        if strings.get(item) is False and key not in tokens:
                            continue  # seen before, no UUID, no token: `string` would return at once
                        self.string(item, key)
                    elif isinstance(item, (dict, list, tuple)):
                        self.structured(item, key)
        elif isinstance(value, (list, tuple)):
            walked = self.walked_records
            if all(map(walked.__contains__, map(id, value))):
                return  # records a step repeats, all walked: the commonest long list, skipped at C speed
            if self.first_walk(value, field_name):
                for item in value:
                    if isinstance(item, str):
                        self.string(item, field_name)
                    elif type(item) is dict and id(item) in walked:
                        continue  # a record a step repeats: the commonest item of a long list
                    elif isinstance(item, (dict, list, tuple)):
                        self.structured(item, field_name)
        elif isinstance(value, str):
            self.string(value, field_name)

    def string(self, text: str, field_name: str | None) -> None:
        whole_uuid = self.strings.get(text)
        if whole_uuid is None:  # first sight: its ids (and a UUID its field names) registered
            whole_uuid = self.strings[text] = UUID.fullmatch(text) is not None
        elif not whole_uuid and field_name not in self.ids.tokens or (text, field_name) in self.registered:
            return  # nothing depends on the field, or registered under this field already (it would add nothing)
        if whole_uuid or field_name in self.ids.tokens:
            self.registered.add((text, field_name))
        if self.ids.register(text, field_name, self.refs):
            self.tokens[text] = None

    def execution_names(self, step: Mapping[str, Any]) -> None:
        """Execution names that are UUIDs (StartExecution without a name) get `<stateMachineExecution:N>`."""
        machines = step.get("stateMachines") or {}
        for name in sorted(machines):
            for record in machines[name]:
                if UUID.fullmatch(str(record.get("name"))):
                    self.refs.assign(str(record["name"]).lower(), "stateMachineExecution")

    def assign_tokens(self) -> None:
        for token in self.tokens:
            self.ids.register_token(token, self.refs)

    def free_text(self) -> None:
        for text in self.strings:
            self.ids.register_free_text(text, self.refs)


class Substitution:
    """Every leaf's time and ids replaced, lists of references sorted by reference, and (`keyed`: for API bodies
    and table items) lists under a list key keyed by their records' key; each distinct string and each container
    (shared repeats are one object) is worked out once."""

    def __init__(self, window: TimeWindow, ids: Identifiers, refs: References,
                 list_keys: Mapping[str, TableKey] | None = None, strings: dict[str, Any] | None = None) -> None:
        self.window, self.ids, self.refs = window, ids, refs
        self.list_keys = list_keys or {}
        self.containers: ObjectMemo[Any] = ObjectMemo()
        self.strings: dict[str, Any] = {} if strings is None else strings

    def keyed(self, list_keys: Mapping[str, TableKey]) -> Substitution:
        """The same substitution, keying lists under `list_keys` too (the strings worked out are shared)."""
        return Substitution(self.window, self.ids, self.refs, list_keys, self.strings)

    def value(self, value: Any) -> Any:
        if isinstance(value, (dict, list, tuple)):
            return self.containers.get(value, self.container)
        return self.leaf(value)

    def values(self, items: list[Any]) -> list[Any]:
        """Each item's substitute; records (a table's items, a step's API records) in one loop."""
        if all(isinstance(item, dict) for item in items):
            return self.containers.each(items, self.container)
        return [self.value(item) for item in items]

    def leaf(self, value: Any) -> Any:
        if isinstance(value, str):
            result = self.strings.get(value)
            if result is None:
                result = self.strings[value] = self.string(value)
            return result
        return value if value is None or type(value) is bool else time_leaf(value, self.window)

    def string(self, text: str) -> Any:
        timed = time_leaf(text, self.window)
        return self.ids.replace(timed, self.refs) if isinstance(timed, str) else timed

    def container(self, value: Any) -> Any:
        """A container's substitute."""
        strings = self.strings  # a string worked out before is taken here, without a call (the commonest leaf)
        if isinstance(value, dict):
            result = {key: type(item) is str and strings.get(item) or self.item(item) for key, item in value.items()}
            for name, key_fields in self.list_keys.items():  # a few names: cheaper than a set of the record's keys
                if isinstance(result.get(name), list):
                    result[name] = key_records(result[name], key_fields)
            return result
        try:  # a list of strings all worked out before (a plan's server ids): looked up at C speed
            items = list(map(strings.__getitem__, value))
        except (KeyError, TypeError):
            items = list(map(self.item, value))
        # Generated ids sorted by raw value (as the contract asks) come out in a random order once replaced.
        if items and type(items[0]) is str and all(isinstance(item, str) and REFERENCE_TEXT.match(item)
                                                   for item in items):
            return sorted(items, key=reference_order)
        return items

    def item(self, item: Any) -> Any:
        """One child's substitute: the commonest cases (a string worked out before, a number outside the run's
        times, null) decided here, before any other call."""
        kind = type(item)
        if kind is str:
            known = self.strings.get(item)
            return known if known is not None else self.leaf(item)
        if kind is int and not self.window.start - WINDOW_BEFORE <= item <= self.window.end + WINDOW_AFTER:
            return item
        if item is None or kind is bool:
            return item
        return self.value(item)


# -- keyed records ---------------------------------------------------------------------------------------------------
def record_key(item: Mapping[str, Any], key_fields: TableKey | None) -> str | None:
    """The item's record key: its key fields' values joined by "/", None without the first field."""
    fields = fields_of(key_fields) if key_fields else ()
    if not fields or item.get(fields[0]) is None:
        return None
    return "/".join(str(item[name]) for name in fields if item.get(name) is not None)


def key_records(records: list[Any], key_fields: TableKey) -> dict[str, Any] | list[Any]:
    """A list of dicts keyed by their record key; left as a list if any record lacks the key or repeats it."""
    keys = [record_key(record, key_fields) if isinstance(record, dict) else None for record in records]
    if any(key is None for key in keys) or len(set(keys)) != len(records):
        return records
    keyed = dict(zip(keys, records))
    return {key: keyed[key] for key in sorted(keyed, key=natural_order)}  # type: ignore[arg-type]


def natural_order(key: str) -> tuple[int, int | str]:
    """Wave numbers sort 0, 1, ..., 10; other keys alphabetically."""
    return (0, int(key)) if key.isdigit() else (1, key)
