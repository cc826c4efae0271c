"""botocore's timestamps read without dateutil are the datetimes (or the errors) its own parser gives, in any zone."""

from __future__ import annotations

import datetime
import os
import time
from typing import Any, Iterator

import boto3
import pytest
from botocore import parsers
from botocore.utils import parse_timestamp

from drs_parity.world.fast_timestamps import fast_timestamp_parser, install_fast_timestamps
from drs_parity.world.world import World

VALUES = ["2026-01-15T10:00:25.000Z", "2026-01-15T10:00:25Z", "2026-01-15T10:00:25.5Z", "2026-01-15T10:00:25.123456Z",
          "2026-01-15T10:00:25+00:00", "2026-01-15T10:00:25.120+00:00", "2026-07-01T23:59:59.999Z",
          "2026-02-30T10:00:25Z", "2026-01-15T25:00:25Z", "2026-01-15T10:00:25.1234567Z", "2026-01-15 10:00:25Z",
          "2026-01-15T10:00:25+02:00", "٢٠٢٦-01-15T10:00:25Z", "Thu, 15 Jan 2026 10:00:25 GMT", "1768471200", 1768471200, 1768471200.5]


@pytest.fixture(params=["UTC", "America/New_York"])
def local_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The process's local time zone (dateutil's answer for `Z` depends on its name), restored afterwards."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = before
    time.tzset()


def parsed(parser: Any, value: Any) -> tuple[str, Any, Any]:
    """What a parser makes of a value, comparably: the datetime's repr, its offset and zone name, or the error."""
    try:
        answer = parser(value)
    except ValueError as error:
        return "error", str(error), None
    assert isinstance(answer, datetime.datetime)
    return repr(answer), answer.utcoffset(), answer.tzname()


def test_every_value_is_parsed_as_botocore_parses_it(local_zone: str) -> None:
    fast = fast_timestamp_parser(parse_timestamp)
    assert [parsed(fast, value) for value in VALUES] == [parsed(parse_timestamp, value) for value in VALUES]


def test_a_world_installs_it_and_its_end_restores_botocores_parser() -> None:
    with World("moto"):
        installed = parsers.DEFAULT_TIMESTAMP_PARSER
        ec2 = boto3.client("ec2", region_name="us-east-1")
        instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    assert installed is not parse_timestamp and parsers.DEFAULT_TIMESTAMP_PARSER is parse_timestamp
    launched = instance["LaunchTime"]
    assert launched == parse_timestamp(launched.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def test_installs_add_up_and_the_last_undo_restores() -> None:
    first, second = install_fast_timestamps(), install_fast_timestamps()
    first()
    assert parsers.DEFAULT_TIMESTAMP_PARSER is not parse_timestamp
    second()
    assert parsers.DEFAULT_TIMESTAMP_PARSER is parse_timestamp
