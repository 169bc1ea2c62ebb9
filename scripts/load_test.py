"""A bounded loopback load test: many players each hold a streamed conversation for a few turns, some end
theirs part way so that summaries run alongside, against a `lifestrands serve` this script starts on a
free port over a throwaway data folder. Prints a progress line every 10 s, then TTFT p50/p95/p99,
tokens/s, errors by kind, RSS at start and end and summary jobs done. Everything stops by --limit."""
import argparse
import collections
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def percentile(values, q):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class Load:
    def __init__(self, base, deadline):
        self.base, self.deadline = base, deadline
        self.lock = threading.Lock()
        self.ttft, self.tokens, self.replies = [], 0, 0
        self.errors = collections.Counter()

    def error(self, kind):
        with self.lock:
            self.errors[kind] += 1

    def post(self, path, body, stream=False):
        return requests.post(self.base + path, json=body, stream=stream,
                             timeout=max(5, self.deadline - time.monotonic()))

    def start(self, npc, player):
        response = self.post("/api/conversations/start", {"npc_id": npc, "user_id": player})
        if response.status_code != 201:
            self.error(f"start {response.status_code} {response.json().get('error', {}).get('code', '')}")
            return None
        return response.json()["session_id"]

    def turn(self, session, text):
        sent = time.monotonic()
        first = None
        with self.post(f"/api/conversations/{session}/message", {"content": text}, stream=True) as response:
            if response.status_code != 200:
                self.error(f"message {response.status_code} {response.json().get('error', {}).get('code', '')}")
                return
            for raw in response.iter_lines():
                if not raw:
                    continue
                line = json.loads(raw)
                if "token" in line and first is None:
                    first = time.monotonic() - sent
                elif "error" in line:
                    self.error(f"reply {line['error'].get('code', 'error')}")
                    return
                elif line.get("done"):
                    with self.lock:
                        self.replies += 1
                        self.tokens += (line.get("usage") or {}).get("completion_tokens", 0)
                        if first is not None:
                            self.ttft.append(first)

    def player(self, index, npcs, turns, ends_early):
        name = f"player-{index:02d}"
        try:
            session = self.start(npcs[index % len(npcs)], name)
            for turn in range(turns):
                if session is None or time.monotonic() > self.deadline:
                    return
                self.turn(session, f"Turn {turn + 1}: what news from the harbour today?")
                # A few players end part way and start again, so summaries run while others talk.
                if ends_early and turn == 0:
                    self.post(f"/api/conversations/{session}/end", {})
                    session = self.start(npcs[(index + 1) % len(npcs)], name)
            if session:
                self.post(f"/api/conversations/{session}/end", {})
        except requests.RequestException as error:
            self.error(type(error).__name__)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifestrands", required=True)
    parser.add_argument("--players", type=int, default=50)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--enders", type=int, default=5, help="players who end their conversation after one turn")
    parser.add_argument("--limit", type=float, default=600, help="seconds before everything stops")
    parser.add_argument("--npcs", default="samples/npcs.json")
    args = parser.parse_args()
    started = time.monotonic()
    deadline = started + args.limit - 30  # leaves time to drain and stop the server
    folder = tempfile.mkdtemp(prefix="lifestrands-load-")
    port = free_port()
    unlimited = {f"RATE_LIMIT_{group}": "1000000/min" for group in ("CHAT", "GENERATION", "ADMIN", "OTHER")}
    environment = {**os.environ, **unlimited, "PORT": str(port), "DATA_DIR": os.path.join(folder, "data"),
                   "MAX_CONCURRENT_CONVERSATIONS": str(args.players + 8), "MAX_WAITING_GENERATIONS": str(args.players * 2),
                   "MAX_GENERATION_WAIT_SECONDS": "0", "LOG_FORMAT": "json", "LOG_LEVEL": "warning",
                   # Every session has its own KV cache in the chat engine: room for all of them.
                   "MIN_VRAM_MB": str(max(4096, 64 * (args.players + 8)))}
    log = open(os.path.join(folder, "server.log"), "w")
    server = subprocess.Popen([args.lifestrands, "serve"], env=environment, stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        line = server.stdout.readline()
        if "serving on" not in line:
            sys.exit(f"load: serve did not start: {line!r}; see {log.name}")
        base = f"http://127.0.0.1:{port}"
        rss_start = rss_mib(server.pid)
        npcs = []
        with open(args.npcs) as sample:
            for entry in json.load(sample)[:5]:
                strand = entry["life_strand"]
                npcs.append(requests.post(base + "/api/npcs", json=strand, timeout=30).json()["npc_id"])
        print(f"load: server pid {server.pid} on {base}, {rss_start:.0f} MiB RSS; {args.players} players x {args.turns} "
              f"turns over {len(npcs)} NPCs, {args.enders} ending early; stops by {args.limit:.0f} s", flush=True)
        load = Load(base, deadline)
        enders = set(range(0, args.players, max(1, args.players // max(1, args.enders)))[: args.enders])
        threads = [threading.Thread(target=load.player, args=(i, npcs, args.turns, i in enders), daemon=True)
                   for i in range(args.players)]
        talk_started = time.monotonic()
        for thread in threads:
            thread.start()
        next_report = talk_started + 10
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(0.5)
            if time.monotonic() >= next_report:
                next_report += 10
                with load.lock:
                    print(f"load: {time.monotonic() - talk_started:5.0f} s  {load.replies} replies, {load.tokens} tokens, "
                          f"{sum(load.errors.values())} errors, {rss_mib(server.pid):.0f} MiB RSS", flush=True)
        talking = time.monotonic() - talk_started
        # Summaries of the ended conversations run on; count those done within a short drain.
        drain_until = min(time.monotonic() + 60, started + args.limit - 10)
        done, jobs = 0, []
        while time.monotonic() < drain_until:
            jobs = requests.get(base + "/api/summaries/jobs?limit=500", timeout=10).json()["jobs"]
            done = sum(job["state"] == "done" for job in jobs)
            if all(job["state"] in ("done", "dead") for job in jobs):
                break
            time.sleep(2)
        states = collections.Counter(job["state"] for job in jobs)
        rss_end = rss_mib(server.pid)
        print()
        print(f"players            {args.players} ({args.turns} turns, {len(enders)} ending early)")
        print(f"replies            {load.replies} in {talking:.0f} s")
        print(f"TTFT p50/p95/p99   {percentile(load.ttft, .5):.2f} / {percentile(load.ttft, .95):.2f} / {percentile(load.ttft, .99):.2f} s")
        print(f"tokens/s           {load.tokens / talking:.1f} ({load.tokens} tokens)")
        print(f"errors             {sum(load.errors.values())}" + "".join(f"\n  {kind:<16} {n}" for kind, n in load.errors.most_common()))
        print(f"RSS start / end    {rss_start:.0f} / {rss_end:.0f} MiB")
        print(f"summary jobs done  {done} of {sum(states.values())} ({', '.join(f'{n} {s}' for s, n in sorted(states.items()))})")
        print(f"elapsed            {time.monotonic() - started:.0f} s")
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    main()
