"""Sort keys: masked value by value, they are the record's whole canonical text masked (escapes, quotes, non-ASCII
and ids as keys included), and tokens are masked too."""

from __future__ import annotations

import uuid

import pytest

from drs_parity.compare.masking import Masks, canonical_json
from drs_parity.compare.normalise import REFERENCE
from drs_parity.compare.transformers import Identifiers

RECORDS = [
    {"executionId": str(uuid.uuid4()), "hostname": "ip-10-0-1-2.ec2.internal", "privateIp": "10.0.1.2"},
    {"message": "line one\ni-0123456789abcdef0 at 10.1.2.3 \u00fcber \"quoted\" \\ drsjob-abc123", "n": 3},
    {"ids": [str(uuid.uuid4()), "i-0fedcba9876543210"], "nested": {"flag": True, "ratio": 0.5, "none": None}},
    {str(uuid.uuid4()): "a UUID as a key"},
    {"NextToken": "r-0123456789abcdef0", "MaxResults": 5},
]


@pytest.mark.parametrize("record", RECORDS, ids=range(len(RECORDS)))
def test_a_records_key_is_its_canonical_text_with_ids_and_tokens_masked(record: dict) -> None:
    masks = Masks(Identifiers(REFERENCE))
    [key] = masks.keys_of([record])
    assert key == masks.text(canonical_json(masks.without_tokens(record)))
    assert "<" in key and not any(value in key for value in ("ec2.internal", "10.0.1.2", "r-0123"))


def test_records_differing_only_in_generated_ids_get_one_key() -> None:
    masks = Masks(Identifiers(REFERENCE))
    first, second = ({"executionId": str(uuid.uuid4()), "instanceId": f"i-{uuid.uuid4().hex[:17]}",
                      "NextToken": f"r-{uuid.uuid4().hex[:17]}"} for _ in range(2))
    assert len(set(masks.keys_of([first, second]))) == 1
