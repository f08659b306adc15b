"""Images go to S3 through presigned POSTs; DynamoDB keeps only the object key."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from shopdesk.config import Settings
from shopdesk.errors import ImageMissing, ImageTooLarge, ImageTypeNotAllowed

IMAGE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
UPLOAD_URL_SECONDS = 300
VIEW_URL_SECONDS = 3600


class Uploads:
    def __init__(self, settings: Settings, s3: Callable[[], Any]) -> None:
        self._settings = settings
        self._s3 = s3

    def check(self, content_type: str, size: int) -> None:
        if content_type not in IMAGE_TYPES:
            raise ImageTypeNotAllowed("Only JPEG, PNG, GIF and WebP images can be sent.", content_type=content_type)
        if size <= 0 or size > self._settings.max_image_bytes:
            raise ImageTooLarge(
                f"An image may be at most {self._settings.max_image_bytes // (1024 * 1024)} MB.", size=size
            )

    def presign(self, session_id: str, content_type: str, size: int) -> dict[str, Any]:
        return self._presign(f"sessions/{session_id}/", content_type, size)

    def presign_for_ticket(self, ticket_id: str, content_type: str, size: int) -> dict[str, Any]:
        return self._presign(f"tickets/{ticket_id}/", content_type, size)

    def _presign(self, prefix: str, content_type: str, size: int) -> dict[str, Any]:
        self.check(content_type, size)
        key = f"{prefix}{uuid.uuid4().hex}.{IMAGE_TYPES[content_type]}"
        post = self._s3().generate_presigned_post(
            Bucket=self._settings.uploads_bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, self._settings.max_image_bytes],
            ],
            ExpiresIn=UPLOAD_URL_SECONDS,
        )
        return {"url": post["url"], "fields": post["fields"], "key": key}

    def verify(self, session_id: str, key: str) -> None:
        self._verify(f"sessions/{session_id}/", key)

    def verify_for_ticket(self, ticket_id: str, key: str) -> None:
        self._verify(f"tickets/{ticket_id}/", key)

    def _verify(self, prefix: str, key: str) -> None:
        """The object must exist under its owner's prefix and really be an allowed image."""
        if not key.startswith(prefix):
            raise ImageMissing("That image does not belong here.")
        s3 = self._s3()
        try:
            head = s3.head_object(Bucket=self._settings.uploads_bucket, Key=key)
        except s3.exceptions.ClientError as error:
            raise ImageMissing("Upload the image before sending it.") from error
        self.check(head.get("ContentType", ""), int(head.get("ContentLength", 0)))

    def view_url(self, key: str) -> str:
        url: str = self._s3().generate_presigned_url(
            "get_object",
            Params={"Bucket": self._settings.uploads_bucket, "Key": key},
            ExpiresIn=VIEW_URL_SECONDS,
        )
        return url
