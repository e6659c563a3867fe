"""The fast engine's price rounding (ask_price_points in framework/c/src/backtest.c) against the live rule.

translate.py turns a strategy's price into the instrument's grid with
``Decimal(repr(x)).quantize(10**-digits, ROUND_HALF_EVEN)``; the C engine must give the same integer points
for every double, ties included. The test compiles a small driver around the real backtest.c (included, so
the driver sees its functions) and compares both on exact ties, their neighbouring doubles,
random prices and prices up to 10^14 points.
"""

from __future__ import annotations

import math
import random
import shutil
import subprocess
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

C_DIR = Path(__file__).resolve().parents[2] / "framework" / "c"

DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "backtest.c"

int main(void) {
  char text[128];
  int digits;
  while (scanf("%127s %d", text, &digits) == 2) {
    double x = strtod(text, NULL); /* hex floats: exact */
    printf("%lld\n", ask_price_points(x, digits, (double)ask_pow10ll(digits)));
  }
  return 0;
}
"""


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc")
    if cc is None:
        pytest.fail("a C compiler (cc) is needed to build the price_points driver")
    folder = tmp_path_factory.mktemp("price_points")
    (folder / "driver.c").write_text(DRIVER)
    others = sorted(str(p) for p in (C_DIR / "src").glob("*.c") if p.name != "backtest.c")
    binary = folder / "driver"
    subprocess.run(
        [
            cc,
            "-std=c11",
            "-O2",
            "-DASK_BUILDING_LIBRARY",
            f"-I{C_DIR / 'include'}",
            f"-I{C_DIR / 'src'}",
            "-o",
            str(binary),
            str(folder / "driver.c"),
            *others,
            "-lm",
            "-pthread",
        ],
        check=True,
    )
    return binary


def live_points(x: float, digits: int) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN).scaleb(digits))


def cases() -> list[tuple[float, int]]:
    rng = random.Random(20261126)
    out: list[tuple[float, int]] = []
    for digits in range(0, 9):
        for _ in range(600):
            k = rng.choice([rng.randrange(1, 10**6), rng.randrange(10**6, 10**12), rng.randrange(1, 100)])
            tie = float(f"{k}5e-{digits + 1}")  # the double nearest to (k + 0.5) points
            out += [(tie, digits), (math.nextafter(tie, math.inf), digits), (math.nextafter(tie, 0.0), digits)]
            out.append((k / 10**digits + rng.uniform(-1, 1) / 10**digits, digits))
            out.append((-tie, digits))
    for digits in (0, 1, 2, 5):  # up to 10^14 points: the tie text then has at most 15 significant digits
        for _ in range(300):
            k = rng.randrange(10**12, 10**14)
            tie = float(f"{k}5e-{digits + 1}")
            out += [(tie, digits), (math.nextafter(tie, math.inf), digits), (k / 10**digits, digits)]
    # Beyond 10^14 points (EURUSD would be 10^9 at 5 digits) repr() of the double nearest to a tie may not
    # be the tie: the engine matches the live rule only below that, before and after the one-division path.
    return out


def test_the_division_gives_the_double_strtod_gives_for_the_tie():
    """The claim behind price_points' fast path: (2k+1) / (2 * 10^d), both exact doubles, is the correctly
    rounded tie, as is the decimal text through strtod (Python's float() is correctly rounded as well)."""
    rng = random.Random(7)
    for _ in range(20_000):
        digits = rng.randrange(0, 16)
        k = rng.randrange(0, 2**51)
        assert float(2 * k + 1) / float(2 * 10**digits) == float(f"{k}5e-{digits + 1}"), (k, digits)


def test_price_points_equals_the_live_decimal_rounding(driver: Path):
    values = cases()
    assert len(values) > 25_000
    text = "".join(f"{x.hex()} {d}\n" for x, d in values)
    done = subprocess.run([str(driver)], input=text, capture_output=True, text=True, check=True)
    got = [int(line) for line in done.stdout.split()]
    expected = [live_points(x, d) for x, d in values]
    wrong = [(x, d, g, e) for (x, d), g, e in zip(values, got, expected, strict=True) if g != e]
    assert not wrong, f"{len(wrong)} prices differ, first: {wrong[:5]}"
    # the ties decide both ways (even k keeps k, odd k goes up), so they are really exercised
    ties = [(x, d) for x, d in values if Decimal(repr(x)) * 10**d % 1 == Decimal("0.5")]
    assert len(ties) > 2_000
