"""The REST customer-file adapter and the core system it talks to: it proves who it is (a
bearer token, a client certificate over mutual TLS), it will not talk plain http:// unless
told, and no national ID or phone number travels in a URL, where access logs keep them."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from test_customer_file import MOBILE, NATIONAL_ID, File, _build
from test_customer_file_rest import core_system, tamas_database  # noqa: F401  (fixture)

from integrations.customer_file import CustomerFileError
from integrations.customer_file.adapters import open_customer_file
from integrations.customer_file.rest import RestCustomerFile
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from tamas.settings import Settings

TOKEN = "core-token-for-tests"
REST = "integrations.customer_file.rest:make"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CoreSystem:
    """The test core system behind a guard that checks the bearer token and writes down
    every URL it was asked for, as its access log would."""

    def __init__(self, core: SqlCustomerFile, token: str = TOKEN) -> None:
        self.urls: list[str] = []

        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.urls.append(request.path_qs)
            if request.headers.get("Authorization") != f"Bearer {token}":
                raise web.HTTPUnauthorized()
            return await handler(request)

        self.app = core_system(core)
        self.app.middlewares.append(guard)


@pytest.fixture
async def core(database: Database) -> AsyncIterator[tuple[CoreSystem, str, File]]:
    built = await _build(database)
    system = CoreSystem(SqlCustomerFile(database))
    server = TestServer(system.app, host="127.0.0.1")
    await server.start_server()
    try:
        yield system, str(server.make_url("/core")), built
    finally:
        await server.close()


def settings_for(url: str, **more: object) -> Settings:
    return Settings(customer_file_adapter=REST, customer_file_url=url, **more)  # type: ignore[arg-type]


def test_plain_http_is_refused_unless_the_settings_allow_it(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(CustomerFileError, match="https"):
        open_customer_file(settings_for("http://core.example/tamas"), database)
    allowed = settings_for("http://127.0.0.1:9/core", customer_file_allow_http=True)
    assert isinstance(open_customer_file(allowed, database), RestCustomerFile)
    with pytest.raises(CustomerFileError, match="https"):
        RestCustomerFile("ftp://core.example/", database)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_the_adapter_sends_its_bearer_token_and_fails_clearly_without_it(
    core: tuple[CoreSystem, str, File],
    tamas_database: Database,  # noqa: F811
) -> None:
    _system, url, _built = core
    with_token = open_customer_file(
        settings_for(url, customer_file_allow_http=True, customer_file_token=TOKEN),
        tamas_database,
    )
    without = open_customer_file(settings_for(url, customer_file_allow_http=True), tamas_database)
    assert isinstance(with_token, RestCustomerFile) and isinstance(without, RestCustomerFile)
    try:
        assert await with_token.customer_by_phone(MOBILE) is not None
        with pytest.raises(CustomerFileError, match="401"):
            await without.customer_by_phone(MOBILE)
    finally:
        await with_token.close()
        await without.close()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_no_national_id_or_phone_number_travels_in_a_url(
    core: tuple[CoreSystem, str, File],
    tamas_database: Database,  # noqa: F811
) -> None:
    system, url, _built = core
    adapter = RestCustomerFile(url, tamas_database, token=TOKEN, allow_http=True)
    try:
        by_id = await adapter.customer_by_national_id(NATIONAL_ID)
        assert by_id is not None
        assert await adapter.customer_by_phone(MOBILE) is not None
        assert [c.id for c in await adapter.search_customers(NATIONAL_ID)] == [by_id.id]
        assert await adapter.customer_file(by_id.id) is not None
    finally:
        await adapter.close()
    assert len(system.urls) >= 4
    e164 = "+98" + MOBILE.lstrip("0").lstrip("+98")
    for asked in system.urls:
        assert NATIONAL_ID not in asked
        assert MOBILE.lstrip("+0")[-9:] not in asked, asked
        assert e164 not in asked


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, the core system's certificate for 127.0.0.1, and a client certificate, made
    with the openssl command (keys are fresh for each test run)."""
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=test core CA", "-keyout", d / "ca.key",
             "-out", d / "ca.pem")  # fmt: skip
    for name, extension in (
        ("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
        ("client", "extendedKeyUsage=clientAuth"),
    ):
        (d / f"{name}.ext").write_text(extension + "\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN=tamas {name}",
                 "-keyout", d / f"{name}.key", "-out", d / f"{name}.csr")  # fmt: skip
        _openssl("x509", "-req", "-in", d / f"{name}.csr", "-CA", d / "ca.pem",
                 "-CAkey", d / "ca.key", "-CAcreateserial", "-days", "2",
                 "-extfile", d / f"{name}.ext", "-out", d / f"{name}.crt")  # fmt: skip
    (d / "client.pem").write_text((d / "client.crt").read_text() + (d / "client.key").read_text())
    return {"ca": d / "ca.pem", "server_crt": d / "server.crt", "server_key": d / "server.key",
            "client": d / "client.pem"}  # fmt: skip


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_mutual_tls_with_the_client_certificate_from_the_settings(
    database: Database,
    tamas_database: Database,  # noqa: F811
    pki: dict[str, Path],
) -> None:
    await _build(database)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki["ca"]))
    server_tls.load_cert_chain(pki["server_crt"], pki["server_key"])
    server_tls.verify_mode = ssl.CERT_REQUIRED  # no client certificate, no connection
    system = CoreSystem(SqlCustomerFile(database))
    server = TestServer(system.app, host="127.0.0.1", scheme="https")
    await server.start_server(ssl=server_tls)
    url = str(server.make_url("/core"))
    assert url.startswith("https://")
    trusted = dict(customer_file_token=TOKEN, customer_file_ca_file=str(pki["ca"]))
    mutual = open_customer_file(
        settings_for(url, customer_file_client_cert=str(pki["client"]), **trusted),
        tamas_database,
    )
    anonymous = open_customer_file(settings_for(url, **trusted), tamas_database)
    untrusting = open_customer_file(
        settings_for(url, customer_file_client_cert=str(pki["client"]), customer_file_token=TOKEN),
        tamas_database,
    )
    assert isinstance(mutual, RestCustomerFile)
    assert isinstance(anonymous, RestCustomerFile) and isinstance(untrusting, RestCustomerFile)
    try:
        assert await mutual.customer_by_phone(MOBILE) is not None
        with pytest.raises(CustomerFileError, match="unreachable"):
            await anonymous.customer_by_phone(MOBILE)  # the server wants a certificate
        with pytest.raises(CustomerFileError, match="unreachable"):
            await untrusting.customer_by_phone(MOBILE)  # the server's CA is not trusted
    finally:
        for adapter in (mutual, anonymous, untrusting):
            await adapter.close()
        await server.close()


def test_an_unreadable_client_certificate_is_named(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    missing = tmp_path / "nope.pem"
    with pytest.raises(CustomerFileError, match="customer_file_client_cert"):
        open_customer_file(
            settings_for("https://core.example/", customer_file_client_cert=str(missing)),
            database,
        )
