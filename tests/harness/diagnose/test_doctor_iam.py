"""The doctor's evidence shows the IAM decisions the evaluator could not make ("not evaluated"), never hides them."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from drs_parity.diagnose.diagnosis import FAIL, PASS, Evidence
from drs_parity.diagnose.evidence import collect_evidence
from drs_parity.world.world import World

from tests.harness.diagnose.test_doctor import check, healthy

SCOPED_ROLE = Path(__file__).resolve().parents[1] / "world" / "packages" / "scoped_role" / "template.yaml"
BILLING = "arn:aws:sns:us-east-1:123456789012:billing-team"
REASON = ("only the Allow in inline worker (BillingInRegion) might allow it: its Condition on aws:RequestedRegion is "
          "not evaluated")


def unjudged(calls: int = 1, **overrides: Any) -> dict[str, Any]:
    return {"function": "worker-team", "action": "sns:Publish", "resource": BILLING, "decision": "not-evaluated",
            "reason": REASON, "calls": calls, **overrides}


def test_a_healthy_chain_says_which_calls_iam_let_through_unjudged():
    evidence = Evidence(iam_not_evaluated=[unjudged(calls=2), unjudged(action="kms:Decrypt")])

    result = check(healthy(), "aws-calls", evidence)

    assert result.status == PASS
    assert result.evidence.endswith(f"; IAM not evaluated (allowed): worker-team sns:Publish on {BILLING} (×2): "
                                    f"{REASON}; and 1 more")


def test_a_broken_chain_says_it_too():
    timeline = healthy()
    timeline["steps"][2]["calls"][2]["error"] = "AccessDeniedException"
    timeline["steps"][3]["calls"] = []

    result = check(timeline, "aws-calls", Evidence(iam_not_evaluated=[unjudged()]))

    assert result.status == FAIL
    assert result.evidence.endswith(f"IAM not evaluated (allowed): worker-team sns:Publish on {BILLING}: {REASON}")


def test_nothing_is_added_when_iam_judged_every_call():
    assert "IAM" not in check(healthy(), "aws-calls", Evidence()).evidence


def test_live_evidence_carries_the_guards_not_evaluated_decisions():
    with World("moto") as world:
        world.host.load(world.deploy(SCOPED_ROLE, "team"))
        world.host.invoke("worker-team")
        evidence = collect_evidence(world, SimpleNamespace(tables={"execution-history": "OrdersTable"}))

    assert evidence.table is not None and evidence.table["TableName"] == "orders-team"
    assert evidence.iam_not_evaluated == [unjudged()]
