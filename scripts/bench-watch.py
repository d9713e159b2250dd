#!/usr/bin/env python3
"""Watch-mode benchmark of pygen against a live Docker daemon.

Run it through scripts/bench-watch.sh, which starts the bench containers and builds the release
binary first. It measures, with the target folder watched through inotify (writes are
timestamped when the kernel reports them):

  - start to first file: pygen started -> first write of the target;
  - idle: VmRSS (and its RssAnon / RssFile parts) after 5 s without changes, and the CPU
    time used during those 5 s;
  - latency, TRIES times: `docker run -d` returns -> the write whose content holds the new
    container (median, p95);
  - paced burst: PACED `docker run -d` started PACED_GAP ms apart (a deployment), each
    latency from its `docker run` returning to the first write whose content holds it
    (median, p90, max);
  - burst: BURST `docker run -d` at once -> renders (pygen_renders_total from the metrics
    endpoint), writes, notifications (signals pygen sent to a HUP-trapping container named
    with --signal, batched by --interval), and whether the final file holds exactly the
    running containers;
  - removal, TRIES times: `docker rm -f` returns -> no later write may still hold it.

Only the Python standard library is used (inotify through ctypes).
"""

import argparse
import concurrent.futures
import ctypes
import os
import re
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
EVENT_HEADER = struct.Struct("iIII")
NAME_LINE = re.compile(r"^\s*#\s+(\S+)\s*$", re.MULTILINE)
BENCH_LABELS = ["--label", "pygen.bench=1", "--label", "pygen.bench.watch=1"]


def now():
    return time.monotonic()


def ms(seconds):
    return f"{seconds * 1000:.1f}"


# nginx-proxy's nginx.tmpl (--docker-gen) names each container of an upstream in a comment.
DOCKER_GEN_NAME_LINE = re.compile(r"^\s*# Container: (\S+)\s*$", re.MULTILINE)
DOCKER_GEN = False


def names_in(content):
    """Container names the template renders: `# NAME` comments (nginx.example) or
    `# Container: NAME` comments (nginx-proxy's nginx.tmpl, with --docker-gen)."""
    pattern = DOCKER_GEN_NAME_LINE if DOCKER_GEN else NAME_LINE
    return set(pattern.findall(content))


class TargetWatcher:
    """Records every completed write of the target file: (monotonic time, content)."""

    def __init__(self, target):
        self.target = target
        self.name = os.path.basename(target).encode()
        self.events = []
        self.cond = threading.Condition()
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        folder = os.path.dirname(target).encode()
        # Atomic writes rename a temporary file over the target (IN_MOVED_TO); in-place writes
        # end with IN_CLOSE_WRITE. Watching the folder sees both, whatever the inode.
        if libc.inotify_add_watch(self.fd, folder, IN_CLOSE_WRITE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            stamp = now()
            offset = 0
            hit = False
            while offset < len(data):
                _wd, _mask, _cookie, length = EVENT_HEADER.unpack_from(data, offset)
                name = data[offset + 16: offset + 16 + length].rstrip(b"\0")
                offset += 16 + length
                hit = hit or name == self.name
            if not hit:
                continue
            try:
                with open(self.target, encoding="utf-8", errors="replace") as f:
                    content = f.read()
            except OSError:
                continue
            with self.cond:
                self.events.append((stamp, content))
                self.cond.notify_all()

    def count(self):
        with self.cond:
            return len(self.events)

    def wait_for(self, predicate, start_index, timeout):
        """First event from start_index on whose content satisfies predicate, or None."""
        deadline = now() + timeout
        index = start_index
        with self.cond:
            while True:
                while index < len(self.events):
                    if predicate(self.events[index][1]):
                        return self.events[index]
                    index += 1
                remaining = deadline - now()
                if remaining <= 0:
                    return None
                self.cond.wait(remaining)

    def since(self, stamp):
        with self.cond:
            return [e for e in self.events if e[0] > stamp]

    def last_before(self, stamp):
        with self.cond:
            before = [e for e in self.events if e[0] <= stamp]
        return before[-1] if before else None


def docker(*args, check=True):
    return subprocess.run(["docker", *args], check=check, capture_output=True, text=True)


def run_container(name, image):
    docker("run", "-d", "--name", name, *BENCH_LABELS,
           "--label", "virtual-host=bench-watch.example", "--expose", "80",
           "--env", "VIRTUAL_HOST=bench-watch.example",
           "--log-driver", "none", image, "sleep", "100000")


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of the file, 12 and 13 after the ")".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid):
    """VmRSS, RssAnon and RssFile of /proc/PID/status in KiB (None where missing): the heap
    and stacks apart from the binary's own pages, which shrink only with the binary."""
    found = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0])
    return found.get("VmRSS"), found.get("RssAnon"), found.get("RssFile")


def metric_total(port, series):
    """Sum of the samples of `series` (with any labels), or None without a metrics endpoint."""
    if not port:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    total = None
    for line in text.splitlines():
        if line.startswith(series) and line[len(series):len(series) + 1] in ("{", " "):
            total = (total or 0) + float(line.rsplit(None, 1)[1])
    return total


def renders_total(port):
    """Sum of pygen_renders_total samples, or None without a metrics endpoint."""
    return metric_total(port, "pygen_renders_total")


def signals_total(port):
    """Signals pygen sent successfully, or None without a metrics endpoint."""
    if not port:
        return None
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith('pygen_actions_total{') and 'kind="signal"' in line \
                and 'outcome="ok"' in line:
            return float(line.rsplit(None, 1)[1])
    return 0.0


def delta(before, after):
    if before is None or after is None:
        return "n/a (metrics off)"
    return f"{after - before:g}"


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def expected_names():
    out = docker("ps", "--filter", "label=virtual-host", "--format", "{{.Names}}").stdout
    return set(out.split())


class Report:
    def __init__(self):
        self.rows = []

    def add(self, what, value):
        self.rows.append((what, value))
        print(f"  {what}: {value}", flush=True)

    def print(self, title):
        width = max(len(w) for w, _ in self.rows)
        print()
        print(title)
        print("-" * (width + 24))
        for what, value in self.rows:
            print(f"{what:<{width}}  {value}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pygen", required=True, help="the pygen binary")
    parser.add_argument("--template", required=True)
    parser.add_argument("--docker-gen", action="store_true",
                        help="run `pygen docker-gen -watch` with a docker-gen template (nginx.tmpl)")
    parser.add_argument("--image", default="pygen-test-busybox")
    parser.add_argument("--metrics-port", type=int, default=0,
                        help="pygen's --metrics port; 0 turns metrics off (no render count)")
    parser.add_argument("--tries", type=int, default=20)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--burst-parallel", type=int, default=50)
    parser.add_argument("--paced", type=int, default=20,
                        help="containers of the paced burst (0 skips it)")
    parser.add_argument("--paced-gap-ms", type=float, default=100.0,
                        help="time between two starts of the paced burst")
    parser.add_argument("--interval", default="0",
                        help="pygen's --interval (notification batching), e.g. '0' or '2 10'")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--idle-only", action="store_true",
                        help="stop after the idle figures (start to first file, RSS, CPU)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="how long to wait for one expected write")
    args = parser.parse_args()
    global DOCKER_GEN
    DOCKER_GEN = args.docker_gen

    work = tempfile.mkdtemp(prefix="pygen-bench-watch.")
    target = os.path.join(work, "out", "nginx.conf")
    os.mkdir(os.path.dirname(target))
    watcher = TargetWatcher(target)
    report = Report()
    prefix = f"pygen-bench-w{os.getpid()}"
    pygen = None
    notified = f"{prefix}-notified"
    stderr_path = os.path.join(work, "pygen.stderr")
    try:
        # The program pygen notifies: a container that survives SIGHUP, as nginx does.
        docker("run", "-d", "--name", notified, *BENCH_LABELS, "--log-driver", "none",
               args.image, "sh", "-c", "trap '' HUP; while :; do sleep 1; done")
        if args.docker_gen:
            command = [args.pygen, "docker-gen", "-watch", "-notify-sighup", notified]
            if args.metrics_port:
                command += ["-metrics", f"127.0.0.1:{args.metrics_port}"]
            command += [args.template, target]
        else:
            command = [args.pygen, "--template", args.template, "--target", target,
                       "--interval", *args.interval.split(), "--signal", notified, "HUP",
                       "--metrics", str(args.metrics_port)]
        print("starting:", " ".join(command), flush=True)
        started = now()
        with open(stderr_path, "wb") as err, open(os.path.join(work, "pygen.stdout"), "wb") as out:
            pygen = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        first = watcher.wait_for(lambda c: True, 0, args.timeout)
        if first is None or pygen.poll() is not None:
            with open(stderr_path, errors="replace") as f:
                tail = f.read()[-2000:]
            status = pygen.poll()
            sys.exit(f"pygen wrote no target within {args.timeout} s"
                     f"{'' if status is None else f' and exited with {status}'}; stderr:\n{tail}")
        report.add("start to first file (ms)", ms(first[0] - started))

        # Idle: nothing changes for a while.
        time.sleep(1.0)
        cpu_before = proc_cpu_seconds(pygen.pid)
        time.sleep(args.idle_seconds)
        cpu_used = proc_cpu_seconds(pygen.pid) - cpu_before
        rss, anon, file = proc_rss_kib(pygen.pid)
        report.add(f"idle RSS after {args.idle_seconds:g} s (KiB)", rss)
        report.add("idle RSS: anonymous / file-backed (KiB)", f"{anon} / {file}")
        report.add(f"CPU during {args.idle_seconds:g} s idle (ms)", ms(cpu_used))
        if args.idle_only:
            report.print(f"watch-mode benchmark, idle only ({len(expected_names())} running)")
            return

        # Latency of one new container.
        latencies, missed = [], 0
        for i in range(args.tries):
            name = f"{prefix}-lat-{i}"
            index = watcher.count()
            run_container(name, args.image)
            returned = now()
            event = watcher.wait_for(lambda c, n=name: n in names_in(c), index, args.timeout)
            if event is None:
                missed += 1
            else:
                latencies.append(event[0] - returned)
            time.sleep(0.2)
        if latencies:
            report.add(f"docker run -> write, median of {len(latencies)} (ms)",
                       ms(statistics.median(latencies)))
            report.add("docker run -> write, p95 (ms)", ms(percentile(latencies, 0.95)))
        report.add("docker run with no write holding it", f"{missed}/{args.tries}")

        # Paced burst: a deployment starting one container every PACED_GAP ms.
        if args.paced:
            gap = args.paced_gap_ms / 1000.0
            index = watcher.count()
            names = [f"{prefix}-paced-{i}" for i in range(args.paced)]
            returned = {}
            renders_before = renders_total(args.metrics_port)

            def start_paced(i, origin):
                delay = origin + i * gap - now()
                if delay > 0:
                    time.sleep(delay)
                run_container(names[i], args.image)
                returned[names[i]] = now()

            origin = now() + 0.05
            with concurrent.futures.ThreadPoolExecutor(args.paced) as pool:
                list(pool.map(lambda i: start_paced(i, origin), range(args.paced)))
            latencies, missed = [], 0
            for name in names:
                event = watcher.wait_for(lambda c, n=name: n in names_in(c), index, args.timeout)
                if event is None:
                    missed += 1
                else:
                    latencies.append(event[0] - returned[name])
            time.sleep(1.0)
            label = f"paced burst: {args.paced} starts {args.paced_gap_ms:g} ms apart"
            if latencies:
                report.add(f"{label}: docker run -> in the file, median (ms)",
                           ms(statistics.median(latencies)))
                report.add(f"{label}: p90 (ms)", ms(percentile(latencies, 0.9)))
                report.add(f"{label}: max (ms)", ms(max(latencies)))
            report.add(f"{label}: never in the file", f"{missed}/{args.paced}")
            report.add(f"{label}: renders",
                       delta(renders_before, renders_total(args.metrics_port)))

        # Burst.
        renders_before = renders_total(args.metrics_port)
        signals_before = signals_total(args.metrics_port)
        writes_before = watcher.count()
        burst_names = [f"{prefix}-burst-{i}" for i in range(args.burst)]
        burst_start = now()
        with concurrent.futures.ThreadPoolExecutor(args.burst_parallel) as pool:
            list(pool.map(lambda n: run_container(n, args.image), burst_names))
        burst_returned = now()
        wanted = expected_names()
        event = watcher.wait_for(lambda c: names_in(c) == wanted, writes_before, 120.0)
        # Let trailing renders land before counting them.
        while True:
            count = watcher.count()
            time.sleep(2.0)
            if watcher.count() == count:
                break
        renders_after = renders_total(args.metrics_port)
        signals_after = signals_total(args.metrics_port)
        report.add(f"burst: {args.burst} docker run -d ({args.burst_parallel} at a time) took (ms)",
                   ms(burst_returned - burst_start))
        if event is not None:
            report.add("burst: last docker run returned -> complete file (ms)",
                       ms(event[0] - burst_returned))
        report.add("burst: renders (pygen_renders_total delta)",
                   "n/a (metrics off)" if renders_before is None or renders_after is None
                   else f"{renders_after - renders_before:g}")
        report.add("burst: file writes", watcher.count() - writes_before)
        report.add(f"burst: notifications (--interval {args.interval})",
                   delta(signals_before, signals_after))
        with open(target, errors="replace") as f:
            final = names_in(f.read())
        wanted = expected_names()
        if final == wanted:
            report.add("burst: final file holds exactly the running containers", "yes")
        else:
            report.add("burst: final file holds exactly the running containers",
                       f"NO ({len(wanted - final)} missing, {len(final - wanted)} extra)")

        # Removal correctness.
        stale_next, stale_later, never_removed = 0, 0, 0
        removals = []
        for name in burst_names[:args.tries]:
            docker("rm", "-f", name)
            removals.append((name, now()))
            time.sleep(0.3)
        time.sleep(3.0)
        for name, returned in removals:
            after = watcher.since(returned)
            if after and name in names_in(after[0][1]):
                stale_next += 1
            if any(name in names_in(c) for _, c in after[1:]):
                stale_later += 1
            last = after[-1] if after else watcher.last_before(returned)
            if last is None or name in names_in(last[1]):
                never_removed += 1
        report.add("rm -f: next write still holds the container", f"{stale_next}/{len(removals)}")
        report.add("rm -f: a later write holds it again", f"{stale_later}/{len(removals)}")
        report.add("rm -f: container still in the final file", f"{never_removed}/{len(removals)}")
        report.add("pygen still running", "yes" if pygen.poll() is None else f"NO ({pygen.poll()})")
        report.print(f"watch-mode benchmark ({len(expected_names())} running containers at the end)")
    finally:
        if pygen is not None and pygen.poll() is None:
            pygen.send_signal(signal.SIGTERM)
            try:
                pygen.wait(10)
            except subprocess.TimeoutExpired:
                pygen.kill()
                pygen.wait()
        ids = docker("ps", "-aq", "--filter", "label=pygen.bench.watch=1").stdout.split()
        if ids:
            docker("rm", "-f", *ids, check=False)
        subprocess.run(["rm", "-rf", work], check=False)


if __name__ == "__main__":
    main()
