"""Turning an exact `WIDTHxHEIGHT` into the shape words vendors take."""

from __future__ import annotations

from fractions import Fraction

ASPECTS = {"16:9": Fraction(16, 9), "4:3": Fraction(4, 3), "1:1": Fraction(1), "3:4": Fraction(3, 4),
           "9:16": Fraction(9, 16), "21:9": Fraction(21, 9)}


def aspect_ratio(width: int, height: int) -> str | None:
    ratio = Fraction(width, height)
    for name, value in ASPECTS.items():
        if abs(float(ratio) / float(value) - 1) < 0.02:  # 1920x1088 is "16:9" to Jimeng
            return name
    return None
