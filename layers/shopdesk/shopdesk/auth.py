"""Who is calling: staff by Cognito ID token, visitors by a store-issued token.

Staff tokens are checked against the pool's JWKS (signature, expiry, audience, issuer, token use) and
the store claim. Visitor tokens are HS256, keyed from the store secret; a shop's backend vouches for
a returning buyer by signing `store:user_id:ts` with the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any

import jwt

from shopdesk.clock import Clock
from shopdesk.config import Settings
from shopdesk.errors import Forbidden, Unauthenticated, WrongStore

STAFF_ROLES = ("admin", "leader", "agent")
VISITOR_AUDIENCE = "shopdesk-visitor"
SHOP_SIGNATURE_MAX_AGE = timedelta(minutes=10)


@dataclass(frozen=True)
class Principal:
    role: str  # "visitor" or the highest staff role
    user_id: str
    name: str = ""
    roles: tuple[str, ...] = field(default=())

    @property
    def is_visitor(self) -> bool:
        return self.role == "visitor"

    @property
    def is_staff(self) -> bool:
        return not self.is_visitor

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def require(self, *roles: str) -> None:
        if not self.has_role(*roles):
            raise Forbidden(f"This needs the role {' or '.join(roles)}.")


class StoreSecret:
    """The store secret, fetched once per container from Secrets Manager."""

    def __init__(self, settings: Settings, client_factory: Any) -> None:
        self._settings = settings
        self._client_factory = client_factory
        self._value: bytes | None = None
        self._lock = threading.Lock()

    def value(self) -> bytes:
        with self._lock:
            if self._value is None:
                client = self._client_factory("secretsmanager")
                secret = client.get_secret_value(SecretId=self._settings.store_secret_id)["SecretString"]
                self._value = secret.encode()
            return self._value

    def derive(self, purpose: str) -> bytes:
        """Separate keys per purpose, so a shop signature can never pass as a visitor token."""
        return hmac.new(self.value(), purpose.encode(), hashlib.sha256).digest()


def sign_shop_user(secret: bytes, store_id: str, user_id: str, ts: int) -> str:
    """What a shop's backend computes to vouch for its buyer (documented in the README)."""
    return hmac.new(secret, f"{store_id}:{user_id}:{ts}".encode(), hashlib.sha256).hexdigest()


class Authenticator:
    def __init__(self, settings: Settings, clock: Clock, store_secret: StoreSecret | None = None) -> None:
        self._settings = settings
        self._clock = clock
        self._store_secret = store_secret

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient:
        return jwt.PyJWKClient(self._settings.jwks_url, cache_keys=True, lifespan=3600, timeout=5)

    @property
    def _visitor_issuer(self) -> str:
        return f"shopdesk:{self._settings.store_id}"

    def authenticate(self, authorization: str | None, allow_visitors: bool = True) -> Principal:
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not token:
            raise Unauthenticated("A token is required.")
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as error:
            raise Unauthenticated("The token is malformed.") from error
        if issuer == self._visitor_issuer:
            if not allow_visitors:
                raise Forbidden("Only staff may call this.")
            return self.visitor(token)
        return self._staff(token)

    def _staff(self, token: str) -> Principal:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self._settings.user_pool_client_id,
                issuer=self._settings.issuer,
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as error:
            raise Unauthenticated("The token is not valid for this store.") from error
        self._check_expiry(claims)
        if claims.get("token_use") != "id":
            raise Unauthenticated("Send the ID token.")
        if claims.get("custom:store_id") != self._settings.store_id:
            raise WrongStore("This account belongs to another store.")
        groups = tuple(role for role in STAFF_ROLES if role in claims.get("cognito:groups", []))
        if not groups:
            raise Forbidden("This account has no ShopDesk role.")
        return Principal(role=groups[0], user_id=claims["sub"], name=claims.get("name", ""), roles=groups)

    def visitor(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._visitor_key(),
                algorithms=["HS256"],
                audience=VISITOR_AUDIENCE,
                issuer=self._visitor_issuer,
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as error:
            raise Unauthenticated("The visitor token is not valid.") from error
        self._check_expiry(claims)
        return Principal(role="visitor", user_id=claims["sub"], name=claims.get("name", ""), roles=("visitor",))

    def _check_expiry(self, claims: dict[str, Any]) -> None:
        """PyJWT would judge exp, iat and nbf by the wall clock; the injected clock judges expiry instead."""
        if int(claims["exp"]) <= self._clock.now().timestamp():
            raise Unauthenticated("The token has expired.")

    def _visitor_key(self) -> bytes:
        if self._store_secret is None:
            raise Unauthenticated("Visitors cannot call this API.")
        return self._store_secret.derive("visitor-token")

    def issue_visitor_token(self, visitor_id: str, name: str = "") -> tuple[str, int]:
        now = self._clock.now()
        lifetime = timedelta(hours=self._settings.visitor_token_hours)
        claims = {
            "iss": self._visitor_issuer,
            "aud": VISITOR_AUDIENCE,
            "sub": visitor_id,
            "name": name,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        return jwt.encode(claims, self._visitor_key(), algorithm="HS256"), int(lifetime.total_seconds())

    def verify_shop_user(self, user_id: str, ts: int, signature: str) -> str:
        """The visitor id of a buyer whom the shop's backend has signed for."""
        if self._store_secret is None:
            raise Unauthenticated("Shop identities are not accepted here.")
        age = abs(self._clock.now().timestamp() - ts)
        if age > SHOP_SIGNATURE_MAX_AGE.total_seconds():
            raise Unauthenticated("The shop signature is too old.")
        expected = sign_shop_user(self._store_secret.value(), self._settings.store_id, user_id, ts)
        if not hmac.compare_digest(expected, signature):
            raise Unauthenticated("The shop signature does not match.")
        return shop_visitor_id(user_id)


SHOP_VISITOR_PREFIX = "shop-"


def shop_visitor_id(user_id: str) -> str:
    """The visitor a shop-signed buyer becomes: the same buyer, the same visitor, on every device."""
    return f"{SHOP_VISITOR_PREFIX}{hashlib.sha256(user_id.encode()).hexdigest()[:24]}"


def new_visitor_id() -> str:
    return f"v-{uuid.uuid4().hex[:20]}"


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(10)}"
