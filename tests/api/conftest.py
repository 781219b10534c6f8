"""A service on the test ledger (no background workers) and tokens of every scope."""

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from api_support import MakeClient, api_settings, ledger
from fastapi.testclient import TestClient

from app.auth.tokens import create_token
from app.db import session_scope
from app.models import TokenScope
from tests.support import started_apps


@pytest.fixture
def make_client(tmp_path: Path, db_url: str) -> Iterator[MakeClient]:
    """Start the app (lifespan: migrations) with the given auth option; stopped after the test."""
    with started_apps(partial(api_settings, tmp_path, db_url)) as start:
        yield start


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """The service with public reads."""
    return make_client()


@pytest.fixture
def tokens(client: TestClient) -> dict[str, str]:
    """A secret per scope, named after the scope."""
    secrets = {}
    with session_scope(ledger(client)) as session:
        for scope in TokenScope:
            secrets[scope.value] = create_token(session, f"{scope.value}-bot", scope).secret
    return secrets
