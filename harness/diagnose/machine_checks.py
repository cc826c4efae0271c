"""The state machine's links: StartExecution, the machine's Lambda task, and the task token handed back."""

from __future__ import annotations

from typing import Any, Mapping

from drs_parity.diagnose.diagnosis import FAIL, PASS, SKIP, Evidence
from drs_parity.diagnose.timeline import TimelineView, dedupe, times

TASK_TRIGGER = "stepfunctions"  # how the function host marks an invocation a state machine's task made
RUNNING = "RUNNING"
RETURNS = ("SendTaskSuccess", "SendTaskFailure")
# Errors a task fails with when its function could not be invoked (IAM, missing function, throttling, ...).
INVOKE_ERRORS = ("Lambda.", "States.Runtime")
TOKEN_TIMEOUTS = ("States.Timeout", "States.HeartbeatTimeout")
SHOWN_STATES = 6  # the last states an execution passed through, shown as its path


def _tasks(view: TimelineView) -> list[dict[str, Any]]:
    """The invocations the state machine's tasks made, in order."""
    return [record for _, record in view.records("invocations") if record.get("trigger") == TASK_TRIGGER]


def _path(record: Mapping[str, Any]) -> str:
    passed = dedupe([str(state) for state in record.get("statesPassed") or ()])
    shown = " → ".join(passed[-SHOWN_STATES:])
    return f"… → {shown}" if len(passed) > SHOWN_STATES else shown or "no state"


def _where(record: Mapping[str, Any]) -> str:
    """The state an execution is in (or ended in)."""
    passed = record.get("statesPassed") or []
    return str(passed[-1]) if passed else "its first state"


def _failure(record: Mapping[str, Any], evidence: Evidence | None) -> str:
    """`Error: Cause` of an execution that ended badly (the cause from the capture, else from live evidence)."""
    cause = record.get("cause") or (evidence.machine_causes.get(str(record.get("name"))) if evidence else None)
    return f"{record.get('error')}: {cause}" if cause else str(record.get("error"))


def _named(machine: str, record: Mapping[str, Any]) -> str:
    return f"{machine} execution {record.get('name')}"


def check_execution_started(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The API started a state machine execution for the recovery execution (StartExecution succeeded)."""
    starts = view.states_calls("StartExecution")
    failed = [call for call in starts if call.get("error")]
    found = view.machine_execution()
    if found is not None:
        machine, record = found
        return PASS, f"StartExecution{times(len(starts))}: {_named(machine, record)} {record.get('status')}"
    if failed:
        return FAIL, (f"{failed[-1].get('function')} states.StartExecution failed: {failed[-1]['error']}"
                      f"{times(len(failed))}")
    if starts:
        return PASS, f"StartExecution succeeded{times(len(starts))} (no state machine capture in this timeline)"
    return FAIL, "no function called StartExecution: the state machine never ran"


def check_task_invoked(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """The machine's Lambda task invoked its function (under the machine's role) and the function ran."""
    found = view.machine_execution()
    tasks = _tasks(view)
    if found is None and not tasks:
        return SKIP, "not reached: no state machine execution"
    broken = [task for task in tasks if task.get("error")]
    if broken:
        error = broken[-1]["error"]
        return FAIL, (f"the machine's task {broken[-1].get('function')} failed: {error.get('type')}: "
                      f"{error.get('message')}{times(len(broken))}")
    if found is not None:
        machine, record = found
        error = str(record.get("error") or "")
        if record.get("status") != RUNNING and error and (not tasks or error.startswith(INVOKE_ERRORS)):
            return FAIL, (f"{_named(machine, record)} {record.get('status')} in {_where(record)}: "
                          f"{_failure(record, evidence)}")
        if not tasks:
            return FAIL, f"{_named(machine, record)} is {record.get('status')} in {_where(record)}, no task invoked"
        return PASS, f"{_invoked(tasks)}; states {_path(record)}"
    return PASS, _invoked(tasks)


def _invoked(tasks: list[dict[str, Any]]) -> str:
    return f"the machine's tasks invoked the {tasks[-1].get('function')} function{times(len(tasks))}"


def check_token_returned(view: TimelineView, evidence: Evidence | None) -> tuple[str, str]:
    """Each wave the machine waits on gives its task token back once it is over (SendTaskSuccess/Failure)."""
    found = view.machine_execution()
    if found is None or not _tasks(view):
        return SKIP, "not reached: the state machine invoked no task"
    machine, record = found
    returned = view.states_calls(*RETURNS)
    failed = [call for call in returned if call.get("error")]
    if failed:
        return FAIL, (f"{failed[-1].get('function')} states.{failed[-1].get('operation')} failed: "
                      f"{failed[-1]['error']}{times(len(failed))}")
    if record.get("error") in TOKEN_TIMEOUTS:
        return FAIL, (f"{_named(machine, record)} {record.get('status')} in {_where(record)}: "
                      f"{_failure(record, evidence)}: its task token came back too late or never")
    stuck = _wave_over(view) if record.get("status") == RUNNING else None
    if stuck:
        return FAIL, f"{stuck}, but {_named(machine, record)} still waits in {_where(record)}: {_returns(returned)}"
    if record.get("status") == RUNNING:
        return PASS, (f"{_named(machine, record)} waits in {_where(record)} with its token kept: the item is "
                      f"{_last_status(view)}, nothing to return yet ({_returns(returned)})")
    return PASS, f"{_returns(returned)}; {_named(machine, record)} {record.get('status')}"


def _returns(calls: list[dict[str, Any]]) -> str:
    if not calls:
        return "no function called SendTaskSuccess or SendTaskFailure"
    counts = {operation: sum(1 for call in calls if call.get("operation") == operation) for operation in RETURNS}
    return ", ".join(f"{operation} ×{count}" for operation, count in counts.items() if count)


def _last_status(view: TimelineView) -> str:
    history = view.item_history()
    return str(view.value(history[-1][1], "execution", "status")) if history else "missing"


def _wave_over(view: TimelineView) -> str | None:
    """Since when the item says the wave the machine waits on is over (final execution, or no wave running while the
    next is still PENDING), held to the last step; None when it does not."""
    history = view.item_history()
    since = None
    for step, item in history:
        over = _over(view, item)
        since = (since or (step, over)) if over else None
    return f"{since[1]} at {view.step_label(since[0])}" if since else None


def _over(view: TimelineView, item: Mapping[str, Any]) -> str | None:
    """What in the item ends the machine's wait: the execution final, or a wave final with the next one unstarted."""
    words = view.words
    status = view.value(item, "execution", "status")
    if status in words.final_statuses:
        return f"the execution was {status}"
    statuses = [view.value(wave, "wave", "status") for wave in view.waves_of(item)]
    if status not in words.active_statuses or any(each in words.running_wave_statuses for each in statuses):
        return None
    for number, (done, following) in enumerate(zip(statuses, statuses[1:])):
        if done in words.final_wave_statuses and following not in (*words.final_wave_statuses,
                                                                   *words.running_wave_statuses):
            return f"wave {number} was {done} and wave {number + 1} still {following}"
    return None

