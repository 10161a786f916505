"""Two `musicvae evaluate --json` results side by side as a Markdown table (for benchmarks/RESULTS.md).

.venv/bin/python benchmarks/compare_packs.py OLD.json NEW.json [--names "8th-note pack" "16th-note pack"]
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
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--names", nargs=2, default=("old pack", "new pack"))
    args = parser.parse_args()
    old, new = (json.load(open(p)) for p in (args.old, args.new))
    print(f"| lane | metric | goal | real | {args.names[0]} | {args.names[1]} |")
    print("|---|---|---|---:|---:|---:|")
    for lane, rows in new["lanes"].items():
        for metric in ORDER:
            if metric not in rows:
                continue
            row = rows[metric]
            real = "-" if row["real"] is None else f"{row['real']:.2f}"
            goal = esc(row.get("goal", ""))
            print(f"| {lane} | {metric} | {goal} | {real} | {fmt(old['lanes'][lane].get(metric))} | {fmt(row)} |")
    for pair, row in new["TD"].items():
        print(f"| {pair} | TD | {esc(row['goal'])} | {row['real']:.2f} | {fmt(old['TD'][pair])} | {fmt(row)} |")
    for metric, row in new["all"].items():
        print(f"| all | {metric} | {esc(row['goal'])} | {row['real']:.2f} | {fmt(old['all'][metric])} | {fmt(row)} |")
    print(
        f"| | **music goals (EB, UPC, QN, DP, TD)** | | | {old['music_goals_met']} of {old['music_goals']} "
        f"| {new['music_goals_met']} of {new['music_goals']} |"
    )
    print(f"| | all goals | | | {old['goals_met']} of {old['goals']} | {new['goals_met']} of {new['goals']} |")
    print(f"| | sanity guards pass | | | {old['sane']} | {new['sane']} |")
    f_old, f_new = old.get("reconstruction_f1") or {}, new.get("reconstruction_f1") or {}
    for lane in f_new:
        print(f"| {lane} | reconstruction F1 at 16ths | | | {f_old.get(lane, '-')} | {f_new[lane]} |")
    r_old, r_new = old.get("random_start"), new.get("random_start")
    if r_old and r_new:
        for lane, row in r_new["lanes"].items():
            o = r_old["lanes"][lane]
            print(
                f"| {lane} | random start: plays in % / empty bars % | real empty {row['empty_bars']['real']:.1f} | "
                f"| {o['plays_in_pct']:.0f} / {o['empty_bars']['generated']:.1f} "
                f"| {row['plays_in_pct']:.0f} / {row['empty_bars']['generated']:.1f} |"
            )


if __name__ == "__main__":
    main()
