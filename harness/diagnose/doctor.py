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
from drs_parity.diagnose.timeline import TimelineView
from drs_parity.fixtures.chain import LINKS

CheckFunction = Callable[[TimelineView, Evidence | None], tuple[str, str]]
# What each link of the chain means and the check that judges it; the order is the chain's (fixtures.chain.LINKS).
JUDGES: dict[str, tuple[str, CheckFunction]] = {
    "status-polling": ("the execution left INITIATED for POLLING", check_status_polling),
    "status-index": ("StatusIndex exists, ACTIVE, keyed on the attribute the finder queries", check_status_index),
    "finder-found": ("the finder ran and found the execution", check_finder_found),
    "poller-invoked": ("the finder invoked the poller and it polled", check_poller_invoked),
    "poller-wrote": ("the poller wrote the waves back", check_poller_wrote),
    "aws-calls": ("the DRS, EC2 and STS calls succeeded, in the right account and region", check_aws_calls),
    "field-names": ("items use the contract's field names", check_field_names),
    "status-values": ("statuses are the contract's upper-case values", check_status_values),
    "servers-enriched": ("servers carry names and their recovery instance's EC2 facts", check_servers_enriched),
    "final-waves": ("an execution is final only when every wave of its plan is", check_final_waves),
}
CHECKS: tuple[tuple[str, str, CheckFunction], ...] = tuple((link, *JUDGES[link]) for link in LINKS)


def diagnose(timeline: Mapping[str, Any], evidence: Evidence | None = None) -> Diagnosis:
    """Every check on one side's timeline (Timeline.to_dict()), in chain order."""
    view = TimelineView(timeline)
    checks = [Check(link, title, *check(view, evidence)) for link, title, check in CHECKS]
    return Diagnosis(str(timeline.get("side")), str(timeline.get("scenario")), view.execution_id, checks)
