"""`musicvae evaluate --json` results side by side as a Markdown table (for benchmarks/RESULTS.md).

.venv/bin/python benchmarks/compare_packs.py A.json B.json [C.json ...] [--names "8th-note pack" "16th-note pack" ...]

The last file's rows (lanes, metrics, goals) set the table; each file is one column, in the order given.
"""

from __future__ import annotations

import argparse
import json

ORDER = ("EB", "UPC", "QN", "DP", "notes_per_bar", "polyphony", "lane_dropout", "primer_similarity")


def esc(text: str) -> str:
    return text.replace("|", "\\|")


def fmt(row: dict | None) -> str:
    if row is None or row.get("generated") is None:
        return "-"
    mark = {True: " ok", False: "", None: ""}[row.get("met")]
    return f"{row['generated']:.2f}{mark}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", nargs="+", help="evaluate --json files, one column each")
    parser.add_argument("--names", nargs="+", default=None, help="a column name per file")
    args = parser.parse_args()
    packs = [json.load(open(p)) for p in args.results]
    names = args.names or [f"pack {i + 1}" for i in range(len(packs))]
    if len(names) != len(packs):
        parser.error("give one name per results file")
    last = packs[-1]

    def row(cells: list[str]) -> None:
        print("| " + " | ".join(cells) + " |")

    row(["lane", "metric", "goal", "real", *names])
    row(["---", "---", "---", "---:", *["---:"] * len(packs)])
    for lane, rows in last["lanes"].items():
        for metric in ORDER:
            if metric in rows:
                r = rows[metric]
                real = "-" if r["real"] is None else f"{r['real']:.2f}"
                row([lane, metric, esc(r.get("goal", "")), real, *[fmt(p["lanes"][lane].get(metric)) for p in packs]])
    for pair, r in last["TD"].items():
        row([pair, "TD", esc(r["goal"]), f"{r['real']:.2f}", *[fmt(p["TD"][pair]) for p in packs]])
    for metric, r in last["all"].items():
        row(["all", metric, esc(r["goal"]), f"{r['real']:.2f}", *[fmt(p["all"][metric]) for p in packs]])
    row(
        [
            "",
            "**music goals (EB, UPC, QN, DP, TD)**",
            "",
            "",
            *[f"{p['music_goals_met']} of {p['music_goals']}" for p in packs],
        ]
    )
    row(["", "all goals", "", "", *[f"{p['goals_met']} of {p['goals']}" for p in packs]])
    row(["", "sanity guards pass", "", "", *[str(p["sane"]) for p in packs]])
    for lane in last.get("reconstruction_f1") or {}:
        row(
            [
                lane,
                "reconstruction F1 at 16ths",
                "",
                "",
                *[str((p.get("reconstruction_f1") or {}).get(lane, "-")) for p in packs],
            ]
        )
    if all(p.get("random_start") for p in packs):
        for lane, r in last["random_start"]["lanes"].items():
            cells = []
            for p in packs:
                o = p["random_start"]["lanes"][lane]
                mark = " ok" if o["empty_bars"]["met"] and o["plays_met"] else ""
                cells.append(f"{o['plays_in_pct']:.0f} / {o['empty_bars']['generated']:.1f}{mark}")
            row(
                [
                    lane,
                    "random start: plays in % / empty bars %",
                    f"real empty {r['empty_bars']['real']:.1f}",
                    "",
                    *cells,
                ]
            )


if __name__ == "__main__":
    main()
