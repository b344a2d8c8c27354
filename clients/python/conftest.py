"""Shared set-up of the Python client suites (test_beta.py, test_v1.py).

The SDKs are used exactly as a user would point them at enrollgraph: a static bearer token
(printed by `enrollgraph token`) behind kiota's BaseBearerTokenAuthenticationProvider, and
`request_adapter.base_url` set to the server's version root.

Environment (set by clients/run.sh):
  ENROLLGRAPH_URL          http://127.0.0.1:PORT of a server started for these suites
  ENROLLGRAPH_TOKEN        a read-write token
  ENROLLGRAPH_READ_TOKEN   a read-only token (DeviceManagementServiceConfig.Read.All)
"""

import asyncio
import os

import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import HeadersInspectionHandlerOption


class StaticToken(AccessTokenProvider):
    """Hands the SDK the token printed by `enrollgraph token`."""

    def __init__(self, token: str):
        self.token = token

    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return self.token

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])  # an empty list allows every host


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the suites through clients/run.sh")
    return value


@pytest.fixture(scope="session")
def base_url() -> str:
    return env("ENROLLGRAPH_URL").rstrip("/")


@pytest.fixture(scope="session")
def token() -> str:
    return env("ENROLLGRAPH_TOKEN")


@pytest.fixture(scope="session")
def read_token() -> str:
    return env("ENROLLGRAPH_READ_TOKEN")


@pytest.fixture(scope="session")
def loop():
    """One event loop for the session: the SDK's httpx client is bound to the loop it ran on."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def run(loop):
    return loop.run_until_complete


def make_client(package, base: str, token: str):
    """A GraphServiceClient of `package` (msgraph_beta or msgraph) pointed at `base`."""
    adapter = package.GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken(token)))
    adapter.base_url = base
    return package.GraphServiceClient(request_adapter=adapter)


def inspect_headers(query_parameters=None, headers=None):
    """A request configuration that records the response headers, plus its inspection option."""
    option = HeadersInspectionHandlerOption(inspect_response_headers=True)
    config = RequestConfiguration(query_parameters=query_parameters, options=[option])
    for name, value in (headers or {}).items():
        config.headers.try_add(name, value)
    return config, option


def response_header(option: HeadersInspectionHandlerOption, name: str) -> str:
    values = option.response_headers.get(name)
    assert values, f"no {name} header in {option.response_headers.get_all()}"
    return next(iter(values))
