#!/usr/bin/env python3
"""Many-templates benchmark: one pygen process (`--config`) rendering K templates over the
running containers. Run it through scripts/bench-templates.sh, which starts the bench
containers and builds the release binary first. It measures:

  - latency, TRIES times: `docker run -d` returns -> every one of the K targets has been
    written with the new container (the last of the K writes; median, p95), and the first of
    the K writes;
  - idle RSS after the first files;
  - one-shot: `pygen --config` with `one_shot = true` and K templates against
    `pygen --one-shot` with the same template once (median of RUNS).

Every template is nginx.example writing its own target; the targets' folder is watched
through inotify, as in bench-watch.py (whose watcher this script reuses).
"""

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_watch", os.path.join(HERE, "bench-watch.py"))
bw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bw)


def config_text(template, targets, metrics_port, one_shot=False):
    lines = []
    if one_shot:
        lines.append("one_shot = true")
    lines += ["", "[metrics]", 'address = "127.0.0.1"', f"port = {metrics_port}", ""]
    for i, target in enumerate(targets):
        lines += ["[[template]]", f'name = "t{i}"', f'source = "{template}"',
                  f'target = "{target}"', "interval = 0", ""]
    return "\n".join(lines)


def timed(command, runs):
    times = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.monotonic() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pygen", required=True)
    parser.add_argument("--template", required=True)
    parser.add_argument("--templates", type=int, default=10)
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--image", default="pygen-test-busybox")
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="pygen-bench-templates.")
    out = os.path.join(work, "out")
    os.mkdir(out)
    targets = [os.path.join(out, f"t{i}.conf") for i in range(args.templates)]
    watchers = [bw.TargetWatcher(t) for t in targets]
    config = os.path.join(work, "pygen.toml")
    with open(config, "w") as f:
        f.write(config_text(args.template, targets, 0))
    report = bw.Report()
    prefix = f"pygen-bench-t{os.getpid()}"
    pygen = None
    stderr_path = os.path.join(work, "pygen.stderr")
    try:
        command = [args.pygen, "--config", config]
        print("starting:", " ".join(command), flush=True)
        with open(stderr_path, "wb") as err:
            pygen = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err,
                                     stdin=subprocess.DEVNULL)
        for w in watchers:
            if w.wait_for(lambda c: True, 0, args.timeout) is None:
                with open(stderr_path, errors="replace") as f:
                    sys.exit(f"no first write of {w.target}; stderr:\n{f.read()[-2000:]}")
        time.sleep(2.0)
        rss, anon, file = bw.proc_rss_kib(pygen.pid)
        report.add(f"idle RSS with {args.templates} templates (KiB)", rss)
        report.add("idle RSS: anonymous / file-backed (KiB)", f"{anon} / {file}")

        last, first, missed = [], [], 0
        for i in range(args.tries):
            name = f"{prefix}-lat-{i}"
            indexes = [w.count() for w in watchers]
            bw.run_container(name, args.image)
            returned = bw.now()
            stamps = []
            for w, index in zip(watchers, indexes):
                event = w.wait_for(lambda c, n=name: n in bw.names_in(c), index, args.timeout)
                if event is None:
                    break
                stamps.append(event[0])
            if len(stamps) < len(watchers):
                missed += 1
            else:
                last.append(max(stamps) - returned)
                first.append(min(stamps) - returned)
            time.sleep(0.2)
        if last:
            report.add(f"docker run -> all {args.templates} files written, median of {len(last)} (ms)",
                       bw.ms(statistics.median(last)))
            report.add(f"docker run -> all {args.templates} files written, p95 (ms)",
                       bw.ms(bw.percentile(last, 0.95)))
            report.add("docker run -> first of the files written, median (ms)",
                       bw.ms(statistics.median(first)))
        report.add("tries with a file never written", f"{missed}/{args.tries}")
    finally:
        if pygen is not None:
            pygen.terminate()
            pygen.wait(timeout=10)
        names = bw.docker("ps", "-aq", "--filter", f"name={prefix}", check=False).stdout.split()
        if names:
            bw.docker("rm", "-f", *names, check=False)

    one_config = os.path.join(work, "oneshot.toml")
    with open(one_config, "w") as f:
        f.write(config_text(args.template, targets, 0, one_shot=True))
    many = timed([args.pygen, "--config", one_config], args.runs)
    single = timed([args.pygen, "--one-shot", "--metrics", "0", "--template", args.template,
                    "--target", targets[0]], args.runs)
    report.add(f"one-shot, {args.templates} templates, median of {args.runs} (ms)", bw.ms(many))
    report.add(f"one-shot, 1 template, median of {args.runs} (ms)", bw.ms(single))
    report.add("ratio", f"{many / single:.2f}")
    report.print(f"many templates ({args.templates}) over the running containers")


if __name__ == "__main__":
    main()
