"""SigV4 headers without the signature's hashing, while an in-process moto world runs: moto never checks it."""

# botocore signs every request: a canonical request, its SHA-256, four HMACs (7% of an AWS call into in-process moto,
# the finder's every tick). In-process moto reads the Authorization header for the credential (the access key: its
# account) and the scope (the region), never the signature; so does the DRS emulator. The headers stay those botocore
# sends (X-Amz-Date, X-Amz-Security-Token, Authorization with Credential and SignedHeaders); only the signature is a
# constant. Plain SigV4 only: S3's, the query-string and SigV4a signers keep botocore's own code.

from __future__ import annotations

from typing import Any, Callable

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SIGV4_TIMESTAMP, SigV4Auth
from botocore.exceptions import NoCredentialsError
from botocore.utils import get_current_datetime

from drs_parity.world.shared_patch import SharedPatch, patch_attribute

UNCHECKED_SIGNATURE = "0" * 64  # the length of a real one
_original: Callable[[SigV4Auth, Any], Any] | None = None


def add_auth_unsigned(signer: SigV4Auth, request: Any) -> Any:
    """SigV4Auth.add_auth, its headers set as botocore sets them, the signature a constant."""
    if type(signer) is not SigV4Auth:  # a subclass (S3, query string) has its own rules: botocore's code
        assert _original is not None
        return _original(signer, request)
    if signer.credentials is None:
        raise NoCredentialsError()
    request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
    signer._modify_request_before_signing(request)
    request.headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, "
                                        f"SignedHeaders={signed_headers(request)}, Signature={UNCHECKED_SIGNATURE}")
    return request


def signed_headers(request: Any) -> str:
    """SigV4Auth.signed_headers(signer.headers_to_sign(request)), without the header map botocore builds for it: the
    names of the request's headers, lower case, but those SigV4 never signs, and `host` (botocore adds it from the
    URL when the request has none)."""
    names = {lower for lower in map(str.lower, request.headers.keys()) if lower not in SIGNED_HEADERS_BLACKLIST}
    names.add("host")
    return ";".join(sorted(name.strip() for name in names))


def install_unchecked_signatures() -> Callable[[], None]:
    """Sign without hashing until the returned undo has been called by every world that installed it."""
    return _PATCH.install()


def _swap_signer() -> Callable[[], None]:
    global _original
    _original = SigV4Auth.__dict__["add_auth"]
    restore = patch_attribute(SigV4Auth, "add_auth", add_auth_unsigned)

    def undo() -> None:
        global _original
        restore()
        _original = None

    return undo


_PATCH = SharedPatch(_swap_signer)
