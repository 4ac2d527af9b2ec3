"""The API client's session setup, which reaches into kubernetes_asyncio's and aiohttp's objects."""

from __future__ import annotations

from kubernetes_asyncio import client

from kubatch.kube.client import ignore_environment


async def test_requests_do_not_consult_the_environment() -> None:
    configuration = client.Configuration()
    configuration.host = "https://127.0.0.1:6443"
    api_client = client.ApiClient(configuration)
    try:
        assert api_client.rest_client.pool_manager.trust_env  # what kubernetes_asyncio builds
        ignore_environment(api_client)
        assert not api_client.rest_client.pool_manager.trust_env
    finally:
        await api_client.close()
