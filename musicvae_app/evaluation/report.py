"""Rows of the evaluation tables: the goals a generated figure is held to, one row's numbers, their text."""

from __future__ import annotations

import math

# Quality goals: (test on (generated - real, real), description). The first five are the MuseGAN
# "music" goals (20 of them over lanes and pairs); notes per bar and polyphony are the sanity guards.
GOALS = {
    "EB": (lambda gap, real: abs(gap) <= 5.0, "|gap| <= 5"),
    "UPC": (lambda gap, real: abs(gap) <= 0.3, "|gap| <= 0.3"),
    "QN": (lambda gap, real: abs(gap) <= 5.0, "|gap| <= 5"),
    "DP": (lambda gap, real: abs(gap) <= 5.0, "|gap| <= 5"),
    "TD": (lambda gap, real: gap <= 0.05, "gap <= 0.05"),
    "notes_per_bar": (lambda gap, real: 0.5 * real <= real + gap <= 2.0 * real, "x0.5 to x2"),
    "polyphony": (lambda gap, real: 0.5 * real <= real + gap <= 2.0 * real, "x0.5 to x2"),
    "lane_dropout": (lambda gap, real: gap <= 0.0, "gap <= 0"),
    "primer_similarity": (lambda gap, real: abs(gap) <= 0.15, "|gap| <= 0.15"),
}
MUSIC_GOALS = ("EB", "UPC", "QN", "DP", "TD")
SANITY_GOALS = ("notes_per_bar", "polyphony")


def number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


def row(metric: str, real: float, generated: float) -> dict:
    gap = generated - real if math.isfinite(real) and math.isfinite(generated) else math.nan
    row = {"real": number(real), "generated": number(generated), "gap": number(gap)}
    if metric in GOALS:
        test, text = GOALS[metric]
        row["goal"] = text
        row["met"] = bool(test(gap, real)) if math.isfinite(gap) else None
    return row


def all_rows(table: dict):
    for lane, rows in table["lanes"].items():
        for metric, row in rows.items():
            yield lane, metric, row
    for pair, row in table["TD"].items():
        yield pair, "TD", row
    for metric, row in table["all"].items():
        yield "all", metric, row


def fmt(value: float | None, width: int, sign: bool = False) -> str:
    if value is None:
        return "-".rjust(width)
    return f"{value:+{width}.2f}" if sign else f"{value:{width}.2f}"
