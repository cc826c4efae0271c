"""IAM as AWS judges it, on a real team's shape: a worker whose role is scoped to the ARNs of six services."""

from pathlib import Path

import pytest

from drs_parity.world.iam import NOT_EVALUATED
from drs_parity.world.world import World

from tests.harness.world.test_world import make_world, world  # noqa: F401  (fixtures: a world per backend)

TEMPLATE = Path(__file__).resolve().parent / "packages" / "scoped_role" / "template.yaml"
ACCOUNT = "123456789012"


@pytest.fixture
def answers(world: World) -> dict[str, str]:
    """What IAM answered each of the worker's calls: ok, or the error code."""
    world.host.load(world.deploy(TEMPLATE, "team"))
    invocation = world.host.invoke("worker-team")
    assert invocation.error is None
    return invocation.result


def test_grants_scoped_to_arns_allow_exactly_what_they_name(answers: dict[str, str]) -> None:
    assert {name: answer for name, answer in answers.items() if answer == "ok"} == dict.fromkeys([
        "account",  # sts:GetCallerIdentity: no statement needed
        "put order", "query by status",  # the table's ARN, and its index's
        "invoke poller",  # the function's ARN
        "start execution", "describe execution",  # states: the state machine's ARN, its executions' pattern
        "create log stream", "put log events",  # the log group's `:*` ARN
        "publish alert",  # the topic's ARN
        "publish billing",  # a conditional grant: not evaluated, let through
    ], "ok")


def test_what_the_role_does_not_name_is_denied_as_aws_denies_it(world: World, answers: dict[str, str]) -> None:
    denied = {name: answer for name, answer in answers.items() if answer != "ok"}

    assert denied == dict.fromkeys(["query the table", "write audit", "invoke itself", "stop execution",
                                    "list state machines", "delete log group"], "AccessDeniedException")
    assert [(denial["action"], denial["resource"]) for denial in world.iam_guard.denials] == [
        ("dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-team"),
        ("dynamodb:PutItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/audit-team"),
        ("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker-team"),
        ("states:StopExecution", world.iam_guard.denials[3]["resource"]),
        ("states:ListStateMachines", "*"),
        ("logs:DeleteLogGroup", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/team/team/worker:*"),
    ]
    assert world.iam_guard.denials[3]["resource"].startswith(
        f"arn:aws:states:us-east-1:{ACCOUNT}:execution:recovery-team:")


def test_the_conditional_grant_is_recorded_as_not_evaluated(world: World, answers: dict[str, str]) -> None:
    assert world.iam_guard.not_evaluated == [{
        "function": "worker-team", "action": "sns:Publish", "resource": f"arn:aws:sns:us-east-1:{ACCOUNT}:billing-team",
        "decision": NOT_EVALUATED, "calls": 1,
        "reason": "only the Allow in inline worker (BillingInRegion) might allow it: its Condition on "
                  "aws:RequestedRegion is not evaluated"}]
