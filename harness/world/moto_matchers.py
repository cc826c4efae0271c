"""moto's request matchers built once per process: every world's mock registers the same ones again."""

# mock_aws.start() registers one `responses` matcher per HTTP method and moto URL pattern (~1,300, each compiling
# its URL) for code that calls AWS through `requests`. They depend on moto's URL index alone and keep no state a
# world could see, so the first world's are registered again by the next, in the same order.

from __future__ import annotations

import re
from typing import Any, Callable

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

_built: list[Any] = []  # the matchers, in moto's order, once a world has started


def _matchers(models: Any) -> list[Any]:
    """What MockAWS._enable_patching registers, built the first time only."""
    from moto.core.custom_responses_mock import CallbackResponse, not_implemented_callback  # moto: see backends

    if not _built:
        for method in models.RESPONSES_METHODS:
            _built.extend(CallbackResponse(method=method, url=pattern,
                                           callback=models.botocore_stubber.process_prepared_request)
                          for _, pattern in models.backend_index.backend_url_patterns)
            _built.append(CallbackResponse(method=method, url=re.compile(r"https?://.+\.amazonaws.com/.*"),
                                           callback=not_implemented_callback))
    return _built


def _apply() -> Callable[[], None]:
    from moto.core import models  # heavy: imported once a moto world starts

    def enable_patching(mock: Any, reset: bool = True) -> None:
        """MockAWS._enable_patching, registering the matchers built once."""
        models.botocore_stubber.enabled = True
        if reset:
            mock.reset()
        models.responses_mock.start()
        for matcher in _matchers(models):
            models.responses_mock.add(matcher)

    return patch_attribute(models.MockAWS, "_enable_patching", enable_patching)


_PATCH = SharedPatch(_apply)


def install_reused_matchers() -> Callable[[], None]:
    """Start moto's mocks with the matchers built once, until every world that installed it has undone it."""
    return _PATCH.install()
