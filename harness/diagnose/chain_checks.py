"""The chain's links, checked in the order of the seed's investigation steps: status, index, finder, poller, AWS calls."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterator, Mapping

from drs_parity.diagnose.diagnosis import FAIL, PASS, SKIP, Evidence, Home
from drs_parity.diagnose.failed_calls import failed_calls
from drs_parity.diagnose.timeline import TimelineView, dedupe, first_with_count, times

CHAIN_SERVICES = ("drs", "ec2", "sts")
ID_FILTERS = {"DescribeJobs": ("jobIDs", "job"), "DescribeSourceServers": ("sourceServerIDs", "source server")}


def check_status_polling(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The execution's item reached the polling status (the API handed it to the finder); a path that went anywhere
    else, a final status included, never let the finder see it."""
    if view.execution_id is None:
        return FAIL, "no execution was started (the start step was refused or missing)"
    history = view.item_history()
    if not history:
        return FAIL, f"execution {view.execution_id} has no item in execution-history"
    polling = view.words.polling_status
    statuses = dedupe([view.value(item, "execution", "status") for _, item in history])
    path = " → ".join(str(status) for status in statuses)
    if polling in statuses:
        return PASS, f"status {path}"
    last_step, last = history[-1]
    if len(statuses) == 1:
        return FAIL, f"status stayed {statuses[0]} through {view.step_label(last_step)}; never {polling}"
    reason = view.value(last, "execution", "errorMessage")
    return FAIL, f"status {path}: {polling} was never reached" + (f" ({reason})" if reason else "")


def _queried_attribute(view: TimelineView) -> str:
    """The attribute the finder's status index queries name (default the item's status field)."""
    for _, call in _index_queries(view):
        names = (call.get("params") or {}).get("ExpressionAttributeNames") or {}
        if names:
            return str(next(iter(names.values())))
        condition = str((call.get("params") or {}).get("KeyConditionExpression", ""))
        if condition:
            return condition.split("=")[0].strip()
    return view.field("execution", "status")


def _index_queries(view: TimelineView) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
    """(step, call) of every Query on the status index."""
    return [(step, call) for step, call in view.records("calls") if call.get("operation") == "Query"
            and (call.get("params") or {}).get("IndexName") == view.words.status_index]


def check_status_index(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The status index as described (live evidence), else as the finder's queries on it fared."""
    attribute = _queried_attribute(view)
    index = view.words.status_index
    if evidence is not None and evidence.table is not None:
        return _status_index_of_table(evidence.table, attribute, index)
    queries = _index_queries(view)
    failed = [call for _, call in queries if call.get("error")]
    if failed:
        return FAIL, f"finder Query on {index} failed: {failed[0].get('error')}{times(len(failed))}"
    if queries:
        return PASS, f"{len(queries)} queries on {index} succeeded (no table description in a timeline)"
    return SKIP, f"no table description and no Query on {index} to judge by"


def _status_index_of_table(table: Mapping[str, Any], attribute: str, status_index: str) -> tuple[str, str]:
    """The status index of a described table: present, keyed on `attribute`, ACTIVE, projecting ALL."""
    indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes") or ()}
    name = table.get("TableName")
    if status_index not in indexes:
        return FAIL, f"table {name} has no {status_index} (indexes: {', '.join(sorted(indexes)) or 'none'})"
    index = indexes[status_index]
    hash_key = next((key["AttributeName"] for key in index.get("KeySchema", ()) if key["KeyType"] == "HASH"), None)
    state = index.get("IndexStatus", "ACTIVE")
    projection = (index.get("Projection") or {}).get("ProjectionType")
    if hash_key != attribute:
        return FAIL, f"{status_index} of {name} is keyed on {hash_key!r}, but the finder queries {attribute!r}"
    if state != "ACTIVE":
        return FAIL, f"{status_index} of {name} is {state}, not ACTIVE"
    if projection != "ALL":
        return FAIL, f"{status_index} of {name} projects {projection}, not ALL"
    return PASS, f"{status_index} of {name}: ACTIVE, HASH {hash_key}, projection ALL"


def _found_counts(view: TimelineView) -> list[int]:
    """How many executions each of the finder's `found` lines says it found."""
    sentence = view.words.log("found")
    matches = [sentence.match(message) for message in view.messages(lambda message: True)]
    return [int(match["count"]) for match in matches if match]


def check_finder_found(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The finder ran on its schedule and found an execution in the polling status."""
    runs = [record for _, record in view.records("invocations") if record.get("trigger") == "schedule"]
    found = _found_counts(view)
    sentence = view.words.log("found")
    if not runs:
        return FAIL, "the finder never ran: no schedule invocation"
    if any(count >= 1 for count in found):
        hits = sum(1 for count in found if count >= 1)
        return PASS, f"{sentence.quote(count=max(found))} ({hits} of {len(runs)} finder runs found one)"
    errors = [str(record["error"]) for record in runs if record.get("error")]
    if errors:
        return FAIL, f"the finder failed: {first_with_count(errors)}"
    failed_queries = [call for _, call in _index_queries(view) if call.get("error")]
    if failed_queries:
        return FAIL, f"the finder's Query on {view.words.status_index} failed: {failed_queries[0]['error']}"
    if found:
        return FAIL, f"{len(runs)} finder runs, every one logged {sentence.quote(count=0)}"
    return FAIL, f"{len(runs)} finder runs, none logged {sentence.quote()}"


def check_poller_invoked(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The finder invoked the poller for this execution and the poller polled it."""
    invoking, polling = view.said("invoking"), view.said("polling")
    invoking_words, polling_words = view.words.log("invoking"), view.words.log("polling")
    if polling:
        return PASS, f"{invoking_words.quote()}{times(len(invoking))}; {polling_words.quote()}{times(len(polling))}"
    errors = view.said("invokeError")
    if errors:
        return FAIL, first_with_count(errors)
    failed = [call for _, call in view.records("calls")
              if call.get("service") == "lambda" and call.get("operation") == "Invoke" and call.get("error")]
    if failed:
        target = (failed[0].get("params") or {}).get("FunctionName")
        return FAIL, f"lambda.Invoke of {target} failed: {failed[0]['error']}{times(len(failed))}"
    if invoking:
        return FAIL, (f"the finder logged {invoking_words.quote()}{times(len(invoking))}, but the poller never logged "
                      f"{polling_words.quote()}")
    return FAIL, f"the finder never logged {invoking_words.quote(id=view.execution_id)}"


def check_poller_wrote(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The poller wrote the waves back and the item changed."""
    polls = view.said("polling")
    if not polls:
        return SKIP, "not reached: the poller never polled this execution"
    updated = view.said("updated")
    errors = view.said("updateError")
    if errors:
        return FAIL, first_with_count(errors)
    skipped = view.said("updateSkipped")
    if not updated and skipped:
        return FAIL, first_with_count(skipped)
    drs_errors = view.said("drsError")
    if not updated and drs_errors:
        return SKIP, f"not reached: every poll stopped at DRS ({drs_errors[0]})"
    if not updated:
        never = view.words.log("updated").quote(waves="N", id=view.execution_id)
        return FAIL, f"the poller polled {len(polls)} times and never logged {never}"
    return _item_changed(view, updated)


def _item_changed(view: TimelineView, updated: list[str]) -> tuple[str, str]:
    """Whether the item's waves or last polled time changed after the poller said it updated them."""
    history = [item for _, item in view.item_history()]
    waves = dedupe([json.dumps(view.waves_of(item), sort_keys=True, default=str) for item in history])
    polled = any(view.value(item, "execution", "lastPolledTime") is not None for item in history)
    if len(waves) < 2 and not polled:
        return FAIL, (f"{updated[-1]}, but the item's {view.field('execution', 'waves')} and "
                      f"{view.field('execution', 'lastPolledTime')} never changed")
    final = ", ".join(str(view.value(wave, "wave", "status")) for wave in view.waves_of(history[-1]))
    return PASS, f"{updated[-1]}{times(len(updated))}; waves now {final}"


def check_aws_calls(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Every DRS, EC2 and STS call ended well, and each lookup asked where the resource lives."""
    outcomes: dict[tuple[str, str, str], list[str | None]] = {}
    for _, call in view.records("calls"):
        if call.get("service") in CHAIN_SERVICES:
            key = (str(call.get("function")), str(call["service"]), str(call.get("operation")))
            outcomes.setdefault(key, []).append(call.get("error"))
    broken = {key: errors for key, errors in outcomes.items() if errors[-1] is not None}
    if broken:
        (function, service, operation), errors = next(iter(broken.items()))
        failures = [error for error in errors if error]
        detail = _error_detail(view, failures[-1], f"{service}:{operation}")
        return FAIL, _with_iam_notes(f"{function} {service}.{operation} failed {len(failures)} of {len(errors)} "
                                     f"calls: {detail}", evidence)
    misdirected = _misdirected_lookups(view, evidence)
    if misdirected:
        return FAIL, _with_iam_notes(first_with_count(misdirected), evidence)
    others = failed_calls(view, CHAIN_SERVICES)
    if others:
        more = f"; and {len(others) - 1} more failing" if len(others) > 1 else ""
        return FAIL, _with_iam_notes(others[0] + more, evidence)
    served = len(evidence.drs_requests) if evidence else None
    transient = Counter(error for errors in outcomes.values() for error in errors if error)
    counts = Counter(service for (_, service, _), errors in outcomes.items() for _ in errors)
    summary = ", ".join(f"{service} {counts[service]} ok" for service in CHAIN_SERVICES if counts[service])
    notes = [f"transient {error}{times(n)} then ok" for error, n in sorted(transient.items())]
    if served is not None:
        notes.append(f"DRS emulator served {served} requests")
    return PASS, _with_iam_notes("; ".join([summary or "no DRS, EC2 or STS call", *notes]), evidence)


def _with_iam_notes(evidence_line: str, evidence: Evidence | None) -> str:
    """The line, then the IAM decisions the evaluator could not make: allowed, "not evaluated" (live evidence)."""
    records = evidence.iam_not_evaluated if evidence is not None else []
    if not records:
        return evidence_line
    first = records[0]
    more = f"; and {len(records) - 1} more" if len(records) > 1 else ""
    return (f"{evidence_line}; IAM not evaluated (allowed): {first['function']} {first['action']} on "
            f"{first['resource']}{times(int(first.get('calls', 1)))}: {first['reason']}{more}")


def _wave_resources(view: TimelineView) -> dict[str, tuple[str, int, Home]]:
    """id -> (kind, wave number, the wave's account and region) for each wave's job and servers in this execution."""
    resources: dict[str, tuple[str, int, Home]] = {}
    for _, item in view.item_history():
        for number, wave in enumerate(view.waves_of(item)):
            home = (view.value(wave, "wave", "accountId"), view.value(wave, "wave", "region"))
            servers = view.value(wave, "wave", "serverIds") or ()
            resources.update({str(server): ("source server", number, home) for server in servers})
            if view.value(wave, "wave", "jobId"):
                resources[str(view.value(wave, "wave", "jobId"))] = ("job", number, home)
    return resources


Lookup = tuple[str, Home, list[str]]  # (operation, where it asked, the ids it asked for)


def _id_lookups(view: TimelineView, evidence: Evidence | None) -> Iterator[Lookup]:
    """Each successful DRS call that filters by ids (DRS omits unknown ones), made while the current execution
    existed: an earlier request for the same servers (an API check of a group in another region) is not the chain's.

    Live evidence gives the emulator's log (account and region); a plain timeline its calls (region only).
    """
    first = _first_step_of_execution(view)
    before, during = [], []
    for step, call in view.records("calls"):
        lookup = None if call.get("service") != "drs" or call.get("error") else _lookup(
            call.get("operation"), (None, call.get("region")), call.get("params"))
        if lookup:
            (during if step.get("index", 0) >= first else before).append(lookup)
    if evidence is None or not evidence.drs_homes:
        yield from during
        return
    earlier_only = {_key(lookup) for lookup in before} - {_key(lookup) for lookup in during}
    for request in evidence.drs_requests:
        lookup = None if request.get("error") else _lookup(
            request.get("operation"), (request.get("account"), request.get("region")), request.get("params"))
        if lookup and _key(lookup) not in earlier_only:
            yield lookup


def _key(lookup: Lookup) -> tuple[str, str | None, tuple[str, ...]]:
    """What a timeline's call and the emulator's record of it share: operation, region and ids."""
    operation, (_, region), ids = lookup
    return operation, region, tuple(ids)


def _lookup(operation: Any, where: Home, params: Any) -> Lookup | None:
    if operation not in ID_FILTERS:
        return None
    ids = ((params or {}).get("filters") or {}).get(ID_FILTERS[str(operation)][0]) or []
    return str(operation), where, [str(resource_id) for resource_id in ids]


def _first_step_of_execution(view: TimelineView) -> int:
    """The index of the first step whose tables hold the current execution (0 when none does)."""
    history = view.item_history()
    return int(history[0][0].get("index", 0)) if history else 0


def _misdirected_lookups(view: TimelineView, evidence: Evidence | None) -> list[str]:
    """One line per lookup that asked one account or region for a wave's job or server that lives in another.

    Where it lives: the DRS emulator's state with live evidence, else the wave's account and region in the item.
    """
    resources = _wave_resources(view)
    homes = evidence.drs_homes if evidence is not None else {}
    keeper = "which DRS has in" if homes else "which the item puts in"
    lines = []
    for operation, asked, ids in _id_lookups(view, evidence):
        for resource_id in (resource_id for resource_id in ids if resource_id in resources):
            kind, number, wave_home = resources[resource_id]
            home = homes.get(resource_id, wave_home)
            if any(_differs(here, there) for here, there in zip(asked, home)):
                lines.append(f"{operation} asked {_place(asked, home)} for {kind} {resource_id} of wave {number}, "
                             f"{keeper} {_place(home, asked)}")
    return lines


def _differs(here: str | None, there: str | None) -> bool:
    """Both known and not the same."""
    return None not in (here, there) and here != there


def _place(where: Home, other: Home) -> str:
    """The region, preceded by the account when the two places' accounts differ."""
    return f"account {where[0]} {where[1]}" if _differs(where[0], other[0]) else str(where[1])


def _error_detail(view: TimelineView, code: str, action: str) -> str:
    """The log line or item message that quotes the error (it carries AWS's message), else the bare code."""
    texts = view.messages(lambda message: True)
    texts += [str(view.value(item, "execution", "errorMessage")) for _, item in view.items()
              if view.value(item, "execution", "errorMessage")]
    quoting = [text for text in texts if f"{code}:" in text or f" {action} " in text]
    return quoting[-1] if quoting else code

