"""Helpers every gateway needs: ClientError to AwsCallError, nextToken paging, fixed-size chunks."""

import contextlib
from typing import Any, Callable, Iterator, Sequence, TypeVar

from botocore.exceptions import ClientError, ParamValidationError

from shared.errors import AwsCallError

T = TypeVar("T")


@contextlib.contextmanager
def reported_as_call_error() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        raise AwsCallError.from_client_error(exc) from exc
    except ParamValidationError as exc:
        # refused by botocore before sending (e.g. StartRecovery for a tag group matching no server)
        raise AwsCallError("ValidationException", " ".join(str(exc).split())) from exc


def all_pages(call: Callable[..., dict[str, Any]], result_key: str, **params: Any) -> list[dict[str, Any]]:
    """Follows `nextToken` until the last page; the first call carries only `params`."""
    results: list[dict[str, Any]] = []
    while True:
        page = call(**params)
        results.extend(page.get(result_key, []))
        if not page.get("nextToken"):
            return results
        params["nextToken"] = page["nextToken"]


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
