import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "reference"))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Every test gets its own disk cache and an empty memory cache."""
    monkeypatch.setenv("ATTN_CACHE_DIR", str(tmp_path / "cache"))
    import attn
    attn.clear_memory_cache()
    yield
