"""The polling-chain doctor: walks one side's timeline the way the seed's investigation does and names the first broken link."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from drs_parity.diagnose.chain_checks import (
    check_aws_calls, check_finder_found, check_poller_invoked, check_poller_wrote, check_status_index,
    check_status_polling,
)
from drs_parity.diagnose.data_checks import (
    check_field_names, check_final_waves, check_servers_enriched, check_status_values,
)
from drs_parity.diagnose.diagnosis import Check, Diagnosis, Evidence
from drs_parity.diagnose.machine_checks import check_execution_started, check_task_invoked, check_token_returned
from drs_parity.diagnose.timeline import TimelineView
from drs_parity.diagnose.wave_starts import check_wave_started_once
from drs_parity.fixtures.chain import LINKS, STATE_MACHINE_LINKS
from drs_parity.fixtures.vocabulary import REFERENCE, ChainVocabulary

CheckFunction = Callable[[TimelineView, Evidence | None], tuple[str, str]]
# What each link of the chain means (in the side's words: {polling}, {index}, {fields}, {statuses} are filled in) and
# the check that judges it; the order is the chain's (fixtures.chain.LINKS).
JUDGES: dict[str, tuple[str, CheckFunction]] = {
    "execution-started": ("the API started a state machine execution", check_execution_started),
    "task-invoked": ("the state machine invoked its task's function", check_task_invoked),
    "status-polling": ("the execution reached {polling}", check_status_polling),
    "status-index": ("{index} exists, ACTIVE, keyed on the attribute the finder queries", check_status_index),
    "finder-found": ("the finder ran and found the execution", check_finder_found),
    "poller-invoked": ("the finder invoked the poller and it polled", check_poller_invoked),
    "poller-wrote": ("the poller wrote the waves back", check_poller_wrote),
    "token-returned": ("each finished wave returned the state machine's task token", check_token_returned),
    "wave-started-once": ("each wave was started once: one successful StartRecovery per wave",
                          check_wave_started_once),
    "aws-calls": ("every AWS call succeeded; DRS, EC2 and STS in the right account and region", check_aws_calls),
    "field-names": ("items use {fields}'s field names", check_field_names),
    "status-values": ("statuses are {statuses}'s values", check_status_values),
    "servers-enriched": ("servers carry names and their recovery instance's EC2 facts", check_servers_enriched),
    "final-waves": ("an execution is final only when every wave of its plan is", check_final_waves),
}
CHECKS: tuple[tuple[str, str, CheckFunction], ...] = tuple((link, *JUDGES[link]) for link in LINKS)


def diagnose(timeline: Mapping[str, Any], evidence: Evidence | None = None,
             vocabulary: ChainVocabulary = REFERENCE) -> Diagnosis:
    """Every check on one side's timeline (Timeline.to_dict()), in chain order, read in the side's words (its system
    description's `chain:`); the state machine's links only on a side that has one."""
    view = TimelineView(timeline, vocabulary)
    links = CHECKS if view.has_state_machine else [entry for entry in CHECKS if entry[0] not in STATE_MACHINE_LINKS]
    words = {"polling": vocabulary.polling_status, "index": vocabulary.status_index,
             "fields": vocabulary.authority("fields"), "statuses": vocabulary.authority("statuses")}
    checks = [Check(link, title.format(**words), *check(view, evidence)) for link, title, check in links]
    return Diagnosis(str(timeline.get("side")), str(timeline.get("scenario")), view.execution_id, checks)
