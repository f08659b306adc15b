"""Visitor tokens and shop-signed identities, with an injected clock and a fixed secret."""

from datetime import UTC, datetime

import jwt
import pytest
from shopdesk.auth import Authenticator, sign_shop_user
from shopdesk.clock import FixedClock
from shopdesk.config import Settings
from shopdesk.errors import Forbidden, Unauthenticated

pytestmark = pytest.mark.unit

SETTINGS = Settings(
    store_id="demo",
    store_name="Demo",
    region="ap-southeast-1",
    table_name="t",
    user_pool_id="ap-southeast-1_pool",
    user_pool_client_id="client",
    store_secret_id="secret",
    uploads_bucket="b",
    reminder_queue_url="q",
    ws_callback_url="http://127.0.0.1:1",
)


SECRET = b"store-secret-of-at-least-32-bytes!"


class FixedSecret:
    def value(self) -> bytes:
        return SECRET

    def derive(self, purpose: str) -> bytes:
        return SECRET + purpose.encode()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))


@pytest.fixture
def auth(clock: FixedClock) -> Authenticator:
    return Authenticator(SETTINGS, clock, FixedSecret())  # type: ignore[arg-type]


def test_an_issued_visitor_token_authenticates_as_that_visitor(auth: Authenticator):
    token, lifetime = auth.issue_visitor_token("v-1")
    principal = auth.authenticate(f"Bearer {token}")
    assert principal.is_visitor and principal.user_id == "v-1"
    assert lifetime == 30 * 24 * 3600


def test_a_visitor_token_expires_by_the_injected_clock(auth: Authenticator, clock: FixedClock):
    # Given a token issued now
    token, lifetime = auth.issue_visitor_token("v-1")
    # When the clock moves just past its lifetime
    clock.advance(seconds=lifetime + 1)
    # Then it is refused as expired
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate(token)


def test_a_forged_visitor_token_is_refused(auth: Authenticator):
    token, _ = auth.issue_visitor_token("v-1")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "v-2"}, b"a-guessed-key-that-is-32-bytes-long", algorithm="HS256")
    with pytest.raises(Unauthenticated):
        auth.authenticate(forged)


def test_a_visitor_token_is_refused_where_only_staff_may_call(auth: Authenticator):
    token, _ = auth.issue_visitor_token("v-1")
    with pytest.raises(Forbidden):
        auth.authenticate(token, allow_visitors=False)


def test_no_token_and_garbage_are_unauthenticated(auth: Authenticator):
    with pytest.raises(Unauthenticated):
        auth.authenticate(None)
    with pytest.raises(Unauthenticated):
        auth.authenticate("Bearer not-a-jwt")


def test_a_shop_signed_buyer_gets_a_stable_visitor_id(auth: Authenticator, clock: FixedClock):
    # Given the shop's backend signing its user id with the store secret
    ts = int(clock.now().timestamp())
    signature = sign_shop_user(SECRET, "demo", "buyer-42", ts)
    # When the widget presents it twice
    first = auth.verify_shop_user("buyer-42", ts, signature)
    second = auth.verify_shop_user("buyer-42", ts, signature)
    # Then the buyer is recognised as the same visitor
    assert first == second and first.startswith("shop-")


def test_a_shop_signature_for_another_user_or_too_old_is_refused(auth: Authenticator, clock: FixedClock):
    ts = int(clock.now().timestamp())
    signature = sign_shop_user(SECRET, "demo", "buyer-42", ts)
    with pytest.raises(Unauthenticated, match="match"):
        auth.verify_shop_user("buyer-43", ts, signature)
    old = ts - 3600
    with pytest.raises(Unauthenticated, match="old"):
        auth.verify_shop_user("buyer-42", old, sign_shop_user(SECRET, "demo", "buyer-42", old))


def test_jwks_url_follows_the_configured_endpoint():
    assert SETTINGS.jwks_url == (
        "https://cognito-idp.ap-southeast-1.amazonaws.com/ap-southeast-1_pool/.well-known/jwks.json"
    )
    local = Settings(**{**SETTINGS.__dict__, "cognito_endpoint": "http://127.0.0.1:4001"})
    assert local.jwks_url == "http://127.0.0.1:4001/ap-southeast-1_pool/.well-known/jwks.json"
    assert local.issuer == SETTINGS.issuer
