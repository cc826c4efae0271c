"""The doctor's TimelineView reads each step's execution items once, and skips the sentence matching of log lines
that cannot be the sentence: the same diagnosis, with less work."""

from __future__ import annotations

from drs_parity.diagnose import timeline
from drs_parity.diagnose.doctor import diagnose
from drs_parity.diagnose.timeline import TimelineView, leading_text
from drs_parity.fixtures.vocabulary import REFERENCE, LogSentence
from tests.harness.diagnose.test_doctor import EXECUTION, healthy, log, status_index


def test_every_check_reads_the_execution_items_gathered_once_per_step(monkeypatch) -> None:
    expected = diagnose(healthy(), status_index())
    gathered: list[object] = []
    read = timeline.executions_as_read
    monkeypatch.setattr(timeline, "executions_as_read", lambda items, words: gathered.append(items) or read(items, words))
    assert diagnose(healthy(), status_index()) == expected
    assert len(gathered) == len(healthy()["steps"])  # not once per check asking for them


def test_the_items_read_again_are_the_same_items() -> None:
    view = TimelineView(healthy())
    first, again = list(view.items()), list(view.items())
    assert first == again and all(a[1] is b[1] for a, b in zip(first, again))
    assert [item["status"] for _, item in view.item_history()] == ["POLLING", "POLLING", "COMPLETED"]


def test_said_matches_only_the_lines_opening_with_the_sentences_text(monkeypatch) -> None:
    data = healthy()
    data["steps"][-1]["logs"] += [log("Polling execution: other-execution"), log("Polling execution: "),
                                  log(f"xPolling execution: {EXECUTION}")]
    matched: list[str] = []
    about = LogSentence.about
    monkeypatch.setattr(LogSentence, "about",
                        lambda self, message, execution: matched.append(message) or about(self, message, execution))
    said = TimelineView(data).said("polling")
    assert said == [f"Polling execution: {EXECUTION}"] * 2  # the other execution's and the broken lines are not it
    assert all(message.startswith("Polling execution: ") for message in matched)
    assert len(matched) == 4  # the two polls, the other execution's, the empty id; never the finder's lines


def test_a_sentence_opening_with_a_placeholder_has_no_leading_text() -> None:
    assert leading_text("Execution {id} changed during poll; update skipped") == "Execution "
    assert leading_text("{id} polled") == "" and leading_text("") == ""
    assert leading_text(REFERENCE.log("found").template) == "Found "
