# Shared fixtures: where the shipped model, samples and the `slid` program are. ctest passes
# SLID_SOURCE_DIR and SLID_BINARY (tests/python/CMakeLists.txt); PYTHONPATH points at build/python.
import os
import pathlib

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("SLID_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
MODEL = SOURCE_DIR / "models" / "default.slid"
SAMPLES = sorted((SOURCE_DIR / "models" / "samples").glob("*.wav"))


@pytest.fixture(scope="session")
def slid_binary():
    path = os.environ.get("SLID_BINARY", "")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("SLID_BINARY not set: the comparisons with the `slid` program need it (run through ctest)")
    return path
