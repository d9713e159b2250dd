#!/usr/bin/env python3
"""Connection-flood benchmark of a pygen worker endpoint, loopback only, no Docker daemon needed.

Starts `PYGEN worker` on 127.0.0.1 (its daemon address unreachable, so it only serves its
endpoint; `--insecure-no-auth`, so any pygen version takes the same requests) and measures:

  - header flood: CONNS connections each send PAD bytes of headers that never end and stay
    open; the worker's VmRSS before, while they are held (HOLD seconds), and after they close;
    the time a request sent while they are held takes to be answered;
  - idle flood under a low file limit: the worker restarted with `ulimit -n FDS`, IDLE
    connections that send nothing, then one request: its status and time;
  - shutdown: HALF connections with half-sent requests, then SIGTERM: time until the worker exits.

Usage: scripts/bench-header-flood.py [--pygen target/debug/pygen] [--conns 500] [--pad 400000]
Only the Python standard library is used.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

BODY = b'{"action": "restart", "args": ["pygen-bench-nothing"]}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_worker(pygen, fds):
    port = free_port()
    cmd = [
        "sh", "-c", f'ulimit -n {fds} && exec "$0" "$@"', pygen, "worker",
        "--manager", f"127.0.0.1:{free_port()}", "--worker-address", "127.0.0.1",
        "--worker-port", str(port), "--metrics", "0", "--events", "none",
        "--docker-address", "tcp://127.0.0.1:1", "--insecure-no-auth",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("the worker does not listen")


def request(port, timeout=30.0):
    """One POST; (status or 0, seconds)."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(
                b"POST / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n"
                b"Connection: close\r\n\r\n%s" % (port, len(BODY), BODY)
            )
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        status = int(data.split()[1]) if data.startswith(b"HTTP/") else 0
    except OSError:
        status = 0
    return status, time.monotonic() - started


def hold(port, count, payload, threads=8):
    held, lock = [], threading.Lock()

    def work(n):
        for _ in range(n):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.settimeout(5)
                try:
                    s.sendall(payload)
                except OSError:
                    pass
                with lock:
                    held.append(s)
            except OSError:
                pass

    ts = [threading.Thread(target=work, args=(count // threads + (i < count % threads),))
          for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return held


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pygen", default="target/debug/pygen")
    p.add_argument("--conns", type=int, default=500)
    p.add_argument("--pad", type=int, default=400_000)
    p.add_argument("--hold", type=float, default=5.0)
    p.add_argument("--idle", type=int, default=300)
    p.add_argument("--fds", type=int, default=256)
    p.add_argument("--half", type=int, default=10)
    a = p.parse_args()

    proc, port = start_worker(a.pygen, 4096)
    request(port)
    before = rss_kib(proc.pid)
    head = b"POST / HTTP/1.1\r\nHost: worker\r\nX-Pad: " + b"a" * a.pad
    held = hold(port, a.conns, head)
    status, took = request(port)
    time.sleep(a.hold)
    during = rss_kib(proc.pid)
    for s in held:
        s.close()
    time.sleep(2)
    after = rss_kib(proc.pid)
    print(f"header flood: {a.conns} conns x {a.pad} bytes unfinished headers: VmRSS before: "
          f"{before} KiB, held {a.hold:.0f}s: {during} KiB, after close: {after} KiB; "
          f"a request during it: status {status} in {took * 1000:.0f} ms")

    half = hold(port, a.half, b"POST / HTTP/1.1\r\nHost: worker\r\nContent-Length: 40\r\n\r\n{", 2)
    time.sleep(0.3)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    print(f"shutdown with {a.half} half-sent requests: SIGTERM to exit: "
          f"{(time.monotonic() - started) * 1000:.0f} ms")
    for s in half:
        s.close()

    proc, port = start_worker(a.pygen, a.fds)
    idle = hold(port, a.idle, b"")
    time.sleep(0.5)
    status, took = request(port, timeout=20)
    print(f"idle flood: {a.idle} idle conns, ulimit -n {a.fds}: a request: status {status} "
          f"in {took * 1000:.0f} ms (20 s client timeout)")
    for s in idle:
        s.close()
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


if __name__ == "__main__":
    main()
