"""The C library also cross-builds for Windows (MinGW, 64- and 32-bit) with undecorated exports."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

C_DIR = Path(__file__).resolve().parents[2] / "framework" / "c"
EXPORTS = [
    "asirikuy_backtest_free",
    "asirikuy_backtest_run",
    "asirikuy_indicator",
    "asirikuy_indicator_tail",
    "asirikuy_indicator_windows",
    "asirikuy_last_drops",
    "c_runStrategy",
    "deinitInstance",
    "getFrameworkVersion",
    "initInstanceC",
]


@pytest.mark.parametrize("triplet", ["x86_64-w64-mingw32", "i686-w64-mingw32"])
def test_mingw_cross_build_exports_the_abi_undecorated(tmp_path, triplet):
    compiler, objdump = shutil.which(f"{triplet}-gcc"), shutil.which(f"{triplet}-objdump")
    if compiler is None or objdump is None:
        pytest.skip(f"{triplet} cross compiler not installed")
    subprocess.run(
        ["make", "-C", str(C_DIR), "OS=Windows_NT", f"CC={compiler}", f"BUILD={tmp_path}"],
        check=True,
        capture_output=True,
    )
    dump = subprocess.run(
        [objdump, "-p", str(tmp_path / "libasirikuy_framework.dll")], check=True, capture_output=True, text=True
    ).stdout
    table = dump.split("[Ordinal/Name Pointer] Table", 1)[1].split("\n\n", 1)[0]
    assert sorted(line.split("]")[-1].strip() for line in table.strip().splitlines()) == EXPORTS
