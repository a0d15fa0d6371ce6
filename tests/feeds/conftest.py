from __future__ import annotations

import pytest

from tests.feeds.support import FeedServer


@pytest.fixture
def http():
    with FeedServer() as server:
        yield server
