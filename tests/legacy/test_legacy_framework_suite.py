"""Our framework tests run against any ABI library: pointed at the second library, those that hold only for ours
(marked ``ours_only``) are skipped and every other one passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_framework_suite_passes_against_the_second_library(sabi_path, tmp_path):
    env = {
        **os.environ,
        "ASIRIKUY_FRAMEWORK_LIBRARY": str(sabi_path),
        "ASIRIKUY_VAR_DIR": str(tmp_path / "var"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/framework", "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", summary).group(1))
    skipped = int(re.search(r"(\d+) skipped", summary).group(1))
    assert passed >= 50 and skipped >= 150, summary
    assert "holds only for our library" in done.stdout
