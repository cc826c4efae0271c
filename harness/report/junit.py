"""JUnit XML: one testcase per scenario."""

from __future__ import annotations

from xml.etree import ElementTree

from drs_parity.gate.results import ParityResult
from drs_parity.report.texts import chain_cell, divergence_text


def to_junit(result: ParityResult) -> str:
    """One testcase per scenario; failure text = chain verdicts, first divergence, divergences; error = the error."""
    suite = ElementTree.Element("testsuite", name="drs-parity", tests=str(len(result.scenarios)),
                                failures=str(sum(s.status == "divergence" for s in result.scenarios)),
                                errors=str(sum(s.status == "error" for s in result.scenarios)),
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
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
