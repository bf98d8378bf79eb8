"""One base error carrying an HTTP status; one global handler turns it into JSON.

Each domain subclasses :class:`ChanganError`. Expected business outcomes are
4xx; 422 is for payload shape only.
"""

from __future__ import annotations

from typing import Any


class ChanganError(Exception):
    """Base of every error changan raises on purpose."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        field: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(ChanganError):
    status_code = 400
    code = "bad_request"


class Unauthorized(ChanganError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ChanganError):
    status_code = 403
    code = "forbidden"


class NotFound(ChanganError):
    status_code = 404
    code = "not_found"


class Conflict(ChanganError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ChanganError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(ChanganError):
    status_code = 422
    code = "invalid"
