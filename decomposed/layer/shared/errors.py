"""Errors crossing layers: API errors (answered as JSON) and AWS call failures (code and message)."""

from botocore.exceptions import ClientError


class ApiError(Exception):
    """A request the API answers with an error body `{"error": code, "message": message}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class ValidationError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(400, "VALIDATION_ERROR", message)


class AwsCallError(Exception):
    """A failed DRS/EC2/STS call reduced to what the contract reports: `<Code>: <Message>`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def text(self) -> str:
        return f"{self.code}: {self.message}"

    @classmethod
    def from_client_error(cls, exc: ClientError) -> "AwsCallError":
        details = exc.response.get("Error", {})
        return cls(str(details.get("Code", "Unknown")), str(details.get("Message", "")))


def client_error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
