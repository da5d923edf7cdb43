#!/usr/bin/env python3
"""Run `dltrain bench` (one or more builds) and bench/pytorch_ref.py one after
the other at each thread count, and print the ratio table of docs/PERFORMANCE.md.

Usage: compare.py [--threads 1,2] [--seconds S] [--workloads mlp,autoencoder] NAME=BINARY...
e.g.   compare.py pure-go=bin/dltrain openblas=bin/dltrain-openblas

Only the standard library is needed. PyTorch runs when /usr/bin/python3 (or
$PYTHON) can import torch; otherwise its columns are left out and a note says so.
The same machine, the same session, one program at a time: quote the ratios,
not the absolute rates, since shared machines drift.
"""
import argparse, json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip().startswith("{")]


def torch_python():
    py = os.environ.get("PYTHON", "/usr/bin/python3")
    try:
        subprocess.run([py, "-c", "import torch"], check=True, capture_output=True)
        return py
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--workloads", default="")
    ap.add_argument("builds", nargs="+", help="NAME=PATH of a dltrain binary")
    a = ap.parse_args()
    builds = [b.split("=", 1) for b in a.builds]
    wanted = [w for w in a.workloads.split(",") if w]
    py = torch_python()
    if py is None:
        print("note: PyTorch not found (set PYTHON to a python3 that can import torch); its columns are skipped")
    rows = {}  # (workload, threads) -> {column: steps/s}
    floors = {}  # (build, threads) -> GFLOP/s
    notes = set()
    for threads in [int(t) for t in a.threads.split(",")]:
        ran = set()
        for name, path in builds:
            cmd = [path, "bench", "--json", "--threads", str(threads), "--seconds", str(a.seconds)]
            for w in wanted:
                cmd += ["--workload", w]
            print(f"running {name} at {threads} thread(s)...", file=sys.stderr)
            for r in run_json(cmd):
                if r.get("error"):
                    notes.add(f"{r['workload']}: {r['error']}")
                    continue
                ran.add(r["workload"])
                rows.setdefault((r["workload"], threads), {})[name] = r["steps_per_s"]
                rows[(r["workload"], threads)][name + " GFLOP/s"] = r["gflop_per_s"]
                floors[(name, threads)] = r.get("floor_gflop_per_s", 0)
        if py and ran:
            print(f"running PyTorch at {threads} thread(s)...", file=sys.stderr)
            cmd = [py, os.path.join(HERE, "pytorch_ref.py"), "--json", "--threads", str(threads),
                   "--seconds", str(a.seconds)] + sorted(ran)
            # torch.set_num_threads does not cap Debian's pthread OpenBLAS,
            # which PyTorch's CPU build calls: cap it too.
            env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
            for r in run_json(cmd, env):
                rows.setdefault((r["workload"], threads), {})["pytorch"] = r["steps_per_s"]
    names = [n for n, _ in builds]
    # The machine's floor at a thread count: the best sgemm rate any build
    # measured there (OpenBLAS's, normally).
    floor = {t: max(f for (_, ft), f in floors.items() if ft == t) for (_, t) in floors}
    best_torch = {}
    for (w, _), cols in rows.items():
        if cols.get("pytorch"):
            best_torch[w] = max(best_torch.get(w, 0), cols["pytorch"])
    header = ["workload", "threads"] + [f"{n} steps/s" for n in names]
    if py:
        header += ["pytorch steps/s"] + [f"{n}/pytorch" for n in names] + [f"{n}/pytorch best" for n in names]
    header += [f"{n} % of floor" for n in names]
    table = [header]
    for (w, t), cols in sorted(rows.items()):
        line = [w, str(t)] + [f"{cols[n]:.1f}" if n in cols else "-" for n in names]
        if py:
            pt, best = cols.get("pytorch"), best_torch.get(w)
            line.append(f"{pt:.1f}" if pt else "-")
            line += [f"{cols[n] / pt:.2f}x" if pt and n in cols else "-" for n in names]
            line += [f"{cols[n] / best:.2f}x" if best and n in cols else "-" for n in names]
        line += [f"{100 * cols[n + ' GFLOP/s'] / floor[t]:.1f}%" if floor.get(t) and n in cols else "-" for n in names]
        table.append(line)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for r in table:
        print("  ".join(c.rjust(wd) for c, wd in zip(r, widths)))
    print("% of floor: the matrix-product work of a step as executed (forward, weight gradients, input gradients")
    print("but the first layer's) times steps/s, over the best sgemm rate below at that thread count")
    for (n, t), f in sorted(floors.items()):
        print(f"sgemm 1024x1024 float32, {n}, {t} thread(s): {f:.1f} GFLOP/s")
    for n in sorted(notes):
        print(n)


if __name__ == "__main__":
    main()
