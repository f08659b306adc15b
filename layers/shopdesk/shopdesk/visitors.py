"""Visitor identities: anonymous ids the store issues, and buyers the shop's backend signs for."""

from __future__ import annotations

from pynamodb.exceptions import PutError

from shopdesk import keys
from shopdesk.auth import Authenticator, new_visitor_id
from shopdesk.clock import Clock, iso
from shopdesk.models import VisitorModel


class VisitorService:
    def __init__(self, clock: Clock, auth: Authenticator) -> None:
        self._clock = clock
        self._auth = auth

    def issue(
        self,
        renew_token: str | None,
        shop_user: tuple[str, int, str] | None,
        name: str,
    ) -> tuple[str, str, int]:
        """(token, visitor id, lifetime seconds) for a new, returning or shop-signed visitor."""
        if shop_user is not None:
            user_id, ts, signature = shop_user
            visitor_id = self._auth.verify_shop_user(user_id, ts, signature)
            self._remember(visitor_id, "shop", user_id)
        elif renew_token:
            visitor_id = self._auth.visitor(renew_token).user_id
        else:
            visitor_id = new_visitor_id()
            self._remember(visitor_id, "anonymous", None)
        token, lifetime = self._auth.issue_visitor_token(visitor_id, name)
        return token, visitor_id, lifetime

    def _remember(self, visitor_id: str, kind: str, shop_user_id: str | None) -> None:
        """Keeps the first visit: a returning buyer's profile is not rewritten."""
        profile = VisitorModel(
            keys.visitor_pk(visitor_id),
            keys.PROFILE_SK,
            visitor_id=visitor_id,
            kind=kind,
            shop_user_id=shop_user_id,
            created_at=iso(self._clock.now()),
        )
        try:
            profile.save(condition=VisitorModel.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
