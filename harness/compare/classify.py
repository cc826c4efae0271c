"""Classification of a scenario's divergences by noise and rules, as a pure function (and noise found by calibration)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from drs_parity.compare.divergence import ACCEPTED, DIVERGENCE, NOISE, Divergence, NoiseEntry, Rule
from drs_parity.compare.rules import RuleSet


@dataclass(frozen=True)
class Classification:
    """Every divergence judged (new objects, in the order given) and the rules that accepted none of them."""

    divergences: list[Divergence]
    stale: list[Rule]

    def with_status(self, status: str) -> list[Divergence]:
        """The judged divergences with `status`, in the order given."""
        return [d for d in self.divergences if d.status == status]

    @property
    def active(self) -> list[Divergence]:
        """Neither noise nor accepted: these decide the verdict."""
        return self.with_status(DIVERGENCE)

    @property
    def accepted(self) -> list[Divergence]:
        """Accepted by a rule (each carries it)."""
        return self.with_status(ACCEPTED)

    @property
    def noise(self) -> list[Divergence]:
        """At a path that differed when a side ran against itself (each carries the entries)."""
        return self.with_status(NOISE)


def noise_by_key(noise: Iterable[NoiseEntry]) -> dict[tuple[str, str], list[NoiseEntry]]:
    """Noise entries by (kind, path), the key a divergence is matched on."""
    by_key: dict[tuple[str, str], list[NoiseEntry]] = {}
    for entry in noise:
        by_key.setdefault((entry.kind, entry.path), []).append(entry)
    return by_key


def judged(divergence: Divergence, rules: Sequence[Rule], noise: dict[tuple[str, str], list[NoiseEntry]]
           ) -> Divergence:
    """A copy of `divergence` judged afresh: noise first (never silently dropped), then the first matching rule."""
    if divergence.key in noise:
        return replace(divergence, status=NOISE, rule=None, noise=list(noise[divergence.key]))
    rule = next((rule for rule in rules if rule.matches(divergence)), None)
    return replace(divergence, status=ACCEPTED if rule else DIVERGENCE, rule=rule, noise=[])


def unused(rules: Iterable[Rule], accepted: Iterable[Divergence]) -> list[Rule]:
    """The rules (by identity) that accepted none of `accepted`: stale over whatever was judged."""
    used = {id(d.rule) for d in accepted}
    return [rule for rule in rules if id(rule) not in used]


def classify(divergences: Iterable[Divergence], rules: RuleSet | None = None,
             noise: Iterable[NoiseEntry] = ()) -> Classification:
    """Judge each divergence as active, accepted or noise; mutates none of its inputs."""
    rule_list = list(rules.rules) if rules is not None else []
    by_key = noise_by_key(noise)
    result = [judged(divergence, rule_list, by_key) for divergence in divergences]
    return Classification(result, unused(rule_list, (d for d in result if d.status == ACCEPTED)))


def noise_from_self_diff(side: str, divergences: Iterable[Divergence]) -> list[NoiseEntry]:
    """The differences of a side against itself (diff of two fresh runs) as noise entries."""
    return [NoiseEntry(side, d.scenario, d.kind, d.path, d.step_index, d.step_name, d.left, d.right)
            for d in divergences]
