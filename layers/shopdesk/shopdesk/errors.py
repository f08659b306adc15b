"""Typed domain errors. Each carries a stable code and its HTTP status; handlers map them in one place."""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidJson(DomainError):
    code = "invalid_json"


class UnknownRoute(DomainError):
    code = "unknown_route"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class MessageTooLong(DomainError):
    code = "message_too_long"


class FrameTooLarge(DomainError):
    code = "frame_too_large"


class ImageTypeNotAllowed(DomainError):
    code = "image_type_not_allowed"


class ImageTooLarge(DomainError):
    code = "image_too_large"


class ImageMissing(DomainError):
    code = "image_missing"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"


class WrongStore(DomainError):
    status = 403
    code = "wrong_store"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotParticipant(DomainError):
    status = 403
    code = "not_participant"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class SessionClosed(DomainError):
    status = 409
    code = "session_closed"


class AlreadyAssigned(DomainError):
    status = 409
    code = "already_assigned"


class OverCapacity(DomainError):
    status = 409
    code = "over_capacity"


class AlreadyRated(DomainError):
    status = 409
    code = "already_rated"


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class VersionConflict(DomainError):
    status = 409
    code = "version_conflict"


class NotYourTicket(DomainError):
    status = 403
    code = "not_your_ticket"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class ImportRejected(DomainError):
    """A file refused whole; `details.errors` names each bad row and why."""

    status = 422
    code = "import_rejected"


class InvalidFlow(DomainError):
    status = 422
    code = "invalid_flow"


class Replayed(DomainError):
    status = 409
    code = "replayed"


class BadSignature(DomainError):
    status = 401
    code = "bad_signature"
