"""Logging in and out, and what a request without a valid token gets."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from chancy import Chancy
from chancy.plugins.api import Api, SimpleAuthBackend, hash_password, verify_password
from chancy.plugins.api.tokens import TOKEN_SALT, Tokens
from chancy.worker import Worker
from tests.api.conftest import PASSWORD, SECRET, USER, login, make_api

pytestmark = pytest.mark.timeout(60)


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy"}


async def test_login_returns_a_token_that_opens_the_api(client: httpx.AsyncClient) -> None:
    token = await login(client)
    response = await client.get(
        "/api/v1/configuration", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert "Api" in response.json()["plugins"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": USER, "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": USER},
        {"password": PASSWORD},
        {"username": USER, "password": 123},
    ],
)
async def test_bad_credentials_are_401(client: httpx.AsyncClient, body: dict) -> None:
    response = await client.post("/api/v1/login", json=body)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid username or password"}


async def test_malformed_login_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/login", content=b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    response = await client.post("/api/v1/login", json=["admin", "pw"])
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    ["/api/v1/configuration", "/api/v1/jobs", "/api/v1/queues", "/api/v1/workers", "/metrics"],
)
async def test_no_token_is_401(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert "Not authenticated" in response.json()["error"]
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Basic YWRtaW46cHc=", "Bearer ", "Token x"])
async def test_bad_token_is_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/v1/queues", headers={"Authorization": header})
    assert response.status_code == 401


async def test_tampered_token_is_401(client: httpx.AsyncClient) -> None:
    token = await login(client)
    payload, _, rest = token.partition(".")
    forged = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT).dumps({"u": "root", "t": "x"})
    for bad in (
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        forged.partition(".")[0] + "." + rest,  # someone else's payload, our signature
        URLSafeTimedSerializer("another-secret-key-xyz", salt=TOKEN_SALT).dumps(
            {"u": USER, "t": "x"}
        ),
    ):
        response = await client.get("/api/v1/queues", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert "not valid" in response.json()["error"]


async def test_expired_token_is_401(app: Chancy, worker: Worker) -> None:
    api = make_api(token_max_age=60)
    asgi = api.build_starlette_app(worker, app)

    # A token signed two minutes ago: itsdangerous reads the time from the signature.
    class TwoMinutesAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 120

    signer = URLSafeTimedSerializer(SECRET, salt=TOKEN_SALT, signer=TwoMinutesAgo)
    stale = signer.dumps({"u": USER, "t": "some-token-id"})
    transport = httpx.ASGITransport(app=asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/v1/queues", headers={"Authorization": f"Bearer {stale}"})
    assert response.status_code == 401
    assert "expired" in response.json()["error"]


async def test_logout_revokes_the_token_on_every_worker(
    app: Chancy, worker: Worker, authed: httpx.AsyncClient
) -> None:
    token = authed.headers["Authorization"].removeprefix("Bearer ")
    # A second app, as another worker with the same secret, accepts the token...
    other = make_api().build_starlette_app(worker, app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other),
        base_url="http://other",
        headers={"Authorization": f"Bearer {token}"},
    ) as elsewhere:
        assert (await elsewhere.get("/api/v1/queues")).status_code == 200
        response = await authed.post("/api/v1/logout")
        assert response.status_code == 200
        # ... and after the logout on the first one, neither does.
        for client in (authed, elsewhere):
            response = await client.get("/api/v1/queues")
            assert response.status_code == 401
            assert "revoked" in response.json()["error"]
    # Logging in again gives a fresh, working token.
    fresh = await login(authed)
    assert fresh != token
    response = await authed.get("/api/v1/queues", headers={"Authorization": f"Bearer {fresh}"})
    assert response.status_code == 200


async def test_logout_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/logout")).status_code == 401


async def test_expired_revocations_are_pruned(app: Chancy, api: Api) -> None:
    tokens = Tokens(app, SECRET, max_age=1)
    claims = tokens.read(tokens.issue(USER))
    old = type(claims)(claims.username, claims.token_id, claims.issued_at - dt.timedelta(days=1))
    await tokens.revoke(old)
    await tokens.revoke(tokens.read(tokens.issue(USER)))
    assert await api.cleanup(app) == 1


def test_password_hashes() -> None:
    stored = hash_password("s3cret", iterations=1000)
    assert stored.startswith("pbkdf2_sha256$1000$")
    assert verify_password("s3cret", stored)
    assert not verify_password("S3cret", stored)
    # Django's make_password("s3cret", salt="abc", hasher PBKDF2 1000 iterations):
    django = (
        "pbkdf2_sha256$1000$abc$"
        + __import__("base64")
        .b64encode(__import__("hashlib").pbkdf2_hmac("sha256", b"s3cret", b"abc", 1000))
        .decode()
    )
    assert verify_password("s3cret", django)
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**14, r=8, p=1, dklen=32)
    scrypt = (
        f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    )
    assert verify_password("pw", scrypt)
    assert not verify_password("px", scrypt)
    assert verify_password("plain", "plain") and not verify_password("plain", "plainer")


async def test_hashed_passwords_log_in(app: Chancy, worker: Worker) -> None:
    api = make_api(
        authentication_backend=SimpleAuthBackend({USER: hash_password(PASSWORD, iterations=1000)})
    )
    transport = httpx.ASGITransport(app=api.build_starlette_app(worker, app))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert await login(client)
        bad = await client.post("/api/v1/login", json={"username": USER, "password": "no"})
        assert bad.status_code == 401


def test_bad_configuration_is_refused() -> None:
    from chancy.errors import ConfigurationError

    backend = SimpleAuthBackend({"a": "b"})
    with pytest.raises(ConfigurationError, match="authentication_backend"):
        Api(authentication_backend={"a": "b"})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="port"):
        Api(authentication_backend=backend, port=70000)
    with pytest.raises(ConfigurationError, match="secret_key"):
        Api(authentication_backend=backend, secret_key="short")
    with pytest.raises(ConfigurationError, match="malformed"):
        SimpleAuthBackend({"a": "pbkdf2_sha256$x$y"})
    with pytest.raises(ConfigurationError, match="dict"):
        SimpleAuthBackend([("a", "b")])  # type: ignore[arg-type]
