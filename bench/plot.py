#!/usr/bin/python3
"""bench/plot.py — draw the JSON file of weft-bench (--json FILE) as SVG and PNG.

    /usr/bin/python3 bench/plot.py RESULTS.json [OUT]   # writes OUT.svg and OUT.png

OUT defaults to RESULTS without .json. The picture: the run conditions, the
targets met or missed, for each workload (and unit) the throughput of weft
beside its baseline per case and placement with the ratio under each pair,
and the timelines of the traced split runs (one per policy, one row per
place, one box per chunk, on one time scale). Needs matplotlib (Debian:
python3-matplotlib, which scripts/install-deps.sh installs)."""
import json
import sys

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
except ImportError:
    sys.exit("plot.py: matplotlib is missing: install python3-matplotlib (bash scripts/install-deps.sh does) "
             "and run this script with /usr/bin/python3")

WEFT, BASE, FAIL, MET, MISSED = "#2f6db5", "#b0b0b0", "#d64541", "#2a7a3a", "#b03030"
SEPMEM = "#8e5ab5"  # weft's bar of a separate-memory row (case "sepmem")
ARRAYS = "#3aa7b8"  # weft's bar on registered arrays against itself unregistered (case "arrays")
UNREG = "#c6b3d6"  # that row's baseline: weft too, unregistered, in separate-memory mode
WEFT_COLORS = {"sepmem": SEPMEM, "arrays": ARRAYS}
CASE_LABELS = {"sepmem": "separate memory", "arrays": "registered arrays"}
PLACE_COLORS = ["#e8964a", "#2f6db5", "#3c9d5d", "#8e5ab5", "#c9a227", "#3aa7b8"]


def si(v):
    """12.3k, 4.56M: as weft-bench prints throughputs."""
    for p in ["", "k", "M", "G", "T"]:
        if abs(v) < 1000 or p == "T":
            return f"{v:.0f}{p}" if abs(v) >= 100 else f"{v:.1f}{p}" if abs(v) >= 10 else f"{v:.2f}{p}"
        v /= 1000


def cut(s, n):
    return s if len(s) <= n else s[: n - 3] + "..."


def goal_text(r):
    """The verdict and the figure it was judged on, as the report's targets list says it."""
    if r["ratio"] is None:
        return "not measured (baseline missing)" if r.get("baseline_missing") else "not measured"
    if r["goal_kind"] == "efficiency":
        return f"efficiency {r['ratio']:.2f} (goal >= {r['goal_ratio']:.2f})"
    if r["goal_kind"] == "ratio":
        return f"{r['ratio']:.2f}x (goal >= {r['goal_ratio']:.2g}x)"
    return f"weft/baseline time {1 / r['ratio']:.2f} (goal <= {1 / r['goal_ratio']:.2f})"


def targets_of(recs):
    """(met, target, figures, record) per goal, as the report's targets list has them: a record's ratio goal,
    then its goal of voluntary context switches per op."""
    out = []
    for r in recs:
        if r["goal_ratio"] is not None:
            out.append((r["meets_goal"], r["target"] or f"{r['workload']} {r['case']} vs {r['baseline']}",
                        goal_text(r), r))
        if r.get("vol_ctx_switches_goal") is not None:
            sw, goal = r["vol_ctx_switches_per_op"], r["vol_ctx_switches_goal"]
            what = f"voluntary context switches < {goal:g} per op: {r['workload']} {r['case']}" + \
                ("" if r["policy"] == "-" else f" {r['policy']}")
            out.append((r["meets_vol_ctx_switches_goal"], what,
                        "not measured" if sw is None else f"{sw:.3g} per op (goal < {goal:g})", r))
    return out


def draw_targets(ax, goals):
    ax.axis("off")
    met = sum(1 for ok, *_ in goals if ok)
    ax.set_title(f"Targets: {met} of {len(goals)} met", loc="left", fontweight="bold")
    for i, (ok, what, figures, r) in enumerate(goals):
        y = 1 - (i + 0.5) / len(goals)
        busy = " [machine busy]" if r["machine_busy"] else ""
        ax.text(0, y, "met" if ok else "MISSED", color=MET if ok else MISSED, fontweight="bold", va="center")
        ax.text(0.06, y, what, va="center")
        ax.text(0.62, y, figures + busy, va="center", color="#333")


def draw_panel(ax, recs):
    r0, coexec = recs[0], recs[0]["case"] == "coexec"
    one_size = all(r["size"] == r0["size"] for r in recs)
    size = f", size {r0['size']}" if one_size else ""
    ax.set_title(f"{r0['workload']} co-execution{size}: split vs the places' sum alone ({r0['unit']}; eff = ratio)"
                 if coexec else f"{r0['workload']}{size}: throughput per placement ({r0['unit']}, higher is better)",
                 loc="left", fontweight="bold")
    top = max([v for r in recs for v in (r["throughput"], r["baseline_throughput"]) if v] or [1])
    for i, r in enumerate(recs):
        weft = WEFT_COLORS.get(r["case"], WEFT)
        base = UNREG if r["case"] == "arrays" else BASE
        for dx, key, ok, color, who in ((-0.2, "throughput", "verified", weft, "weft"),
                                        (0.2, "baseline_throughput", "baseline_verified", base, r["baseline"])):
            v = r[key]
            if who != "weft" and r.get("baseline_missing"):  # not built in: no bar, not a failure
                ax.text(i + dx, 0, "missing", color="#555", ha="center", va="bottom", fontsize=8)
                continue
            if not r[ok] or v is None:
                ax.text(i + dx, 0, "FAILED", color=FAIL, ha="center", va="bottom", fontsize=8)
                continue
            ax.bar(i + dx, v, 0.38, color=color)
            ax.text(i + dx, v, si(v), ha="center", va="bottom", fontsize=8)
        if coexec and r["baseline_throughput"]:
            ax.hlines(0.9 * r["baseline_throughput"], i - 0.45, i + 0.45, colors=MISSED, linestyles="dashed")
        if r["ratio"] is not None:
            goal = r["goal_ratio"]
            sep = " " if len(recs) < 8 else "\n"  # crowded: the goal under the ratio
            text = f"{r['ratio']:.2f}x" + (f"{sep}(goal >= {goal:.2f}x)" if goal else "")
            ax.annotate(text, xy=(i, 0), xycoords=("data", "axes fraction"), xytext=(0, -44 if one_size else -55),
                        textcoords="offset points", ha="center", fontsize=8, fontweight="bold" if goal else None,
                        color="#555" if not goal else MET if r["meets_goal"] else MISSED)
    labels, maxc = [], max(12, 160 // len(recs))  # characters a label has room for
    several = len({r["baseline"] for r in recs}) > 1 and len({r["placement"] for r in recs}) == 1  # spawn
    for r in recs:
        what = (f"{r['policy']}: eff {r['efficiency']:.2f}" if coexec and r["efficiency"] is not None
                else f"split, {r['policy']}" if r["case"] == "split"
                else f"{r['case']}, {r['policy']}" if r["case"] == "cpu"
                else f"{r['case']} vs {r['baseline']}" if several
                else CASE_LABELS.get(r["case"], r["case"]))
        labels.append(f"{cut(what, maxc)}\n{cut(r['placement'], maxc)}" + ("" if one_size else f"\nsize {r['size']}"))
    ax.set_xticks(range(len(recs)), labels, fontsize=8)
    ax.set_xlim(-0.6, len(recs) - 0.4)
    ax.set_ylim(0, top * 1.3)  # room for the legend
    ax.set_ylabel(f"throughput ({r0['unit']})")
    ax.yaxis.set_major_formatter(lambda v, _: si(v))
    grey = dict.fromkeys(r["baseline"] for r in recs if r["case"] != "arrays")
    legend = [Patch(color=WEFT, label="weft")] + \
        ([Patch(color=BASE, label="baseline: " + ", ".join(grey))] if grey else [])
    if any(r["case"] == "sepmem" for r in recs):
        legend.insert(1, Patch(color=SEPMEM, label="weft, separate-memory mode"))
    if any(r["case"] == "arrays" for r in recs):
        legend += [Patch(color=ARRAYS, label="weft, registered arrays (separate memory)"),
                   Patch(color=UNREG, label="weft, unregistered (separate memory)")]
    if coexec:
        legend.append(Line2D([], [], color=MISSED, linestyle="dashed",
                             label="0.9 x the sum alone (goal of guided, adaptive)"))
    ax.legend(handles=legend, loc="upper right", fontsize=8, ncol=len(legend))
    ax.grid(axis="y", color="#e3e3e3")
    ax.set_axisbelow(True)


def draw_timeline(ax, tl, tmax):
    places = sorted({(c["place_id"], c["place"]) for c in tl["chunks"]})
    names = []
    for row, (pid, name) in enumerate(places):
        chunks = [c for c in tl["chunks"] if c["place_id"] == pid]
        rows = sum(c["end"] - c["begin"] for c in chunks)
        names.append(f"{cut(name, 30)}\n{len(chunks)} chunks, {rows} rows ({100 * rows / max(tl['rows'], 1):.0f}%)")
        lanes = []  # lanes, should chunks of one place overlap in time
        for c in sorted(chunks, key=lambda c: c["t0_ms"]):
            lane = next((k for k, end in enumerate(lanes) if end <= c["t0_ms"] + 1e-6), len(lanes))
            lanes[lane:lane + 1] = [c["t1_ms"]]
            c["lane"] = lane
        h = 0.8 / max(len(lanes), 1)
        for c in chunks:
            w, y = c["t1_ms"] - c["t0_ms"], row - 0.4 + h * c["lane"]
            ax.broken_barh([(c["t0_ms"], w)], (y, h), facecolors=FAIL if c["failed"] else PLACE_COLORS[pid % 6],
                           edgecolor="white")
            label = f"[{c['begin']}, {c['end']})" if w > 0.07 * tmax else str(c["end"] - c["begin"])
            if w > 0.008 * tmax * len(label):
                ax.text(c["t0_ms"] + w / 2, y + h / 2, label, ha="center", va="center", color="white", fontsize=7)
    ax.set_yticks(range(len(places)), names, fontsize=8)
    ax.set_ylim(len(places) - 0.5, -0.5)
    ax.set_xlim(0, tmax)
    ax.set_title(tl["title"], loc="left", fontsize=10, fontweight="bold")
    ax.set_xlabel("ms since the first chunk started", fontsize=8)
    ax.grid(axis="x", color="#e3e3e3")
    ax.set_axisbelow(True)


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[1])
    with open(argv[1]) as f:
        run = json.load(f)
    out = argv[2] if len(argv) == 3 else argv[1].removesuffix(".json")
    recs = run["records"]
    goals = targets_of(recs)
    panels = {}
    for r in recs:  # one panel per workload and unit, co-execution apart
        panels.setdefault((r["workload"], r["unit"], r["case"] == "coexec"), []).append(r)
    tls = [t for t in run.get("timelines", []) if t["chunks"]]
    heights = ([0.3 + 0.22 * len(goals)] if goals else []) + [4.2] * len(panels) + \
        [1.2 + 0.6 * len({c["place_id"] for c in t["chunks"]}) for t in tls]
    height = sum(heights) + 1.6  # inches: the panels, the heading and the margins
    fig, axes = plt.subplots(len(heights), 1, figsize=(14, height), squeeze=False,
                             gridspec_kw={"height_ratios": heights, "hspace": 0.75})
    axes = list(axes[:, 0])
    mode = {"smoke": "smoke run", "quick": "quick run"}.get(run["mode"], "run")
    busy = " (machine busy: ratios unreliable)" if run["machine_busy"] else ""
    fig.suptitle(f"weft-bench {mode} (weft {run['weft_version']}) on {run['machine']}, {run['cpu_model']}, "
                 f"{run['workers']} CPU workers, {len(run['devices'])} device(s)\nper-op medians; effective cores "
                 f"{run['effective_cores_start']:.2f} at start, {run['effective_cores_end']:.2f} at end{busy}",
                 x=0.01, y=1 - 0.2 / height, ha="left", va="top", fontsize=12)
    if goals:
        draw_targets(axes.pop(0), goals)
    for key, group in panels.items():
        draw_panel(axes.pop(0), group)
    tmax = max([c["t1_ms"] for t in tls for c in t["chunks"]] or [1]) * 1.02
    for tl in tls:
        draw_timeline(axes.pop(0), tl, tmax)
    fig.subplots_adjust(left=0.16, right=0.98, top=1 - 1.2 / height, bottom=0.4 / height)
    for ext in ("svg", "png"):
        fig.savefig(f"{out}.{ext}", dpi=80 if ext == "png" else None)
        print(f"wrote {out}.{ext}")


if __name__ == "__main__":
    main(sys.argv)
