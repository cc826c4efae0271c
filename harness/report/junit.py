"""JUnit XML: one testcase per scenario, its whole wall time, and its Lambda runtime failures on <system-err>."""

from __future__ import annotations

from xml.etree import ElementTree

from drs_parity.compare.divergence import DIVERGENCE
from drs_parity.gate.results import ERROR, ParityResult, ScenarioResult
from drs_parity.report.runtime_failures import failure_text, runtime_failures
from drs_parity.report.texts import chain_cell, divergence_text


def runtime_failure_lines(scenario: ScenarioResult, left: str, right: str) -> str:
    """Each Lambda runtime failure of both sides on a line (side, step, function, error), its last traceback line
    beneath; empty when every invocation ran through."""
    lines: list[str] = []
    for failure in runtime_failures(scenario, left, right):
        lines.append(f"{failure['side']} step {failure['step']} {failure['stepName']}: {failure_text(failure)}")
        lines += [f"  last traceback line: {failure['trace']}"] if failure["trace"] else []
    return "\n".join(lines)


def to_junit(result: ParityResult) -> str:
    """One testcase per scenario; failure text = chain verdicts, first divergence, divergences; error = the error;
    <system-err> = the Lambda runtime failures (a scenario in parity may have some too)."""
    suite = ElementTree.Element("testsuite", name="drs-parity", tests=str(len(result.scenarios)),
                                failures=str(sum(s.status == DIVERGENCE for s in result.scenarios)),
                                errors=str(sum(s.status == ERROR for s in result.scenarios)),
                                time=f"{result.seconds:.3f}")
    for scenario in result.scenarios:
        case = ElementTree.SubElement(suite, "testcase", classname=f"drs-parity.{result.left}-vs-{result.right}",
                                      name=scenario.scenario, time=f"{scenario.seconds:.3f}")
        if scenario.error:
            ElementTree.SubElement(case, "error", message=scenario.error).text = scenario.error
        elif scenario.active:
            chain = chain_cell(scenario, result.left, result.right)
            failure = ElementTree.SubElement(case, "failure", message=f"{len(scenario.active)} divergence(s); "
                                                                      f"chain: {chain}")
            failure.text = divergence_text(scenario, result.left, result.right)
        failures = runtime_failure_lines(scenario, result.left, result.right)
        if failures:
            ElementTree.SubElement(case, "system-err").text = f"Lambda runtime failures:\n{failures}"
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
