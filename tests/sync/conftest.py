"""Fixtures of the change-feed tests; ``store`` and ``db_url`` come from ``tests/conftest.py``."""

from __future__ import annotations

import pytest

from zato_outconn import Store
from zato_outconn.sync.changes import Change


@pytest.fixture
def changes(store: Store) -> list[Change]:
    seen: list[Change] = []
    store.subscribe(seen.append)
    return seen
