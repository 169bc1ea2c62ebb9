#!/usr/bin/env python3
"""`make bench-model`: our model service side by side with llama.cpp's own tools and server and with
llama-cpp-python's server, on one model, one thread count, one machine and the same prompts.

It starts each server on a loopback port, drives it with the same requests (stdlib only), stops it, and
prints one table (and writes it as Markdown with --markdown FILE). Every loop is bounded.
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PERSONA = (
    "You are Tomas Varga, a 58-year-old boat captain at the Coastal Research Station. You fished these waters "
    "for thirty years before the catch ran thin, and now you ferry marine scientists out to the kelp beds and "
    "tell them where the fish used to be. You are gruff, loyal, superstitious and funny. You love your "
    "granddaughter, who is studying to be an engineer in the city, and you worry about paying for her school. "
    "You fear storms out of season and being useless. You trust Elena Rodriguez, the marine biologist, like a "
    "daughter, and you distrust Victor Hale, the developer who wants to build a resort on the reef. You know "
    "that when the gulls fly inland at noon a storm comes before dark. You speak in short sentences, you swear "
    "mildly, you never use words like 'delve', and you always answer as Tomas, in the first person, about the "
    "sea, the weather, the station, the town of Port Ashby and the people in it. You remember the storm of '98 "
    "that sank three boats and the night you pulled young Kestrel out of the harbour. You keep a lucky coin "
    "from your father in your pocket and touch it before every trip. Your boat is the Marisol, forty years old, "
    "with an engine that coughs in the cold. You drink your coffee black and your rum on Sundays only."
)
QUESTIONS = [
    "Will the weather hold today?", "What do you think of Victor Hale?", "Tell me about the storm of '98.",
    "How is the Marisol running?", "Where did the fish go?", "What does Elena study?",
    "Why do you touch that coin?", "How is your granddaughter?", "Can you take me out to the reef?",
    "What should I know about Port Ashby?",
]


def post_stream(port, path, body, on_line, timeout=600):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}: {response.read()[:300]!r}")
    buffer = b""
    while True:
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(1)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                on_line(line.strip())
    connection.close()


def chat_ours(port, messages, max_tokens, conversation=None, reuse=True):
    """One generation on our service: (time to first token, generated tokens, seconds)."""
    started = time.perf_counter()
    state = {"first": None, "tokens": 0}

    def on_line(line):
        event = json.loads(line)
        if "token" in event and state["first"] is None:
            state["first"] = time.perf_counter() - started
        if event.get("done"):
            state["tokens"] = event["generated_tokens"]
        if "error" in event:
            raise RuntimeError(event["error"])
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "reuse_cache": reuse}
    if conversation:
        body["conversation_id"] = conversation
    post_stream(port, "/api/models/generate", body, on_line)
    return state["first"] or 0.0, state["tokens"], time.perf_counter() - started


def chat_openai(port, messages, max_tokens, conversation=None, reuse=True):
    """One generation on an OpenAI-compatible server (llama-server, llama_cpp.server), streamed."""
    started = time.perf_counter()
    state = {"first": None, "tokens": 0}

    def on_line(line):
        if not line.startswith(b"data:"):
            return
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        event = json.loads(payload)
        for choice in event.get("choices", []):
            if choice.get("delta", {}).get("content"):
                if state["first"] is None:
                    state["first"] = time.perf_counter() - started
                state["tokens"] += 1
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    post_stream(port, "/v1/chat/completions", body, on_line)
    return state["first"] or 0.0, state["tokens"], time.perf_counter() - started


class Server:
    def __init__(self, name, command, port, health, env=None):
        self.name, self.command, self.port, self.health = name, command, port, health
        self.env = {**os.environ, **(env or {})}

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=self.log, env=self.env,
                                        start_new_session=True)
        deadline = time.time() + 180
        while time.time() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.log.read()[-2000:]!r}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", self.health)
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start")

    def peak_rss_mib(self):
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


def decode_rate(chat, port, max_tokens):
    """Single-stream tokens per second after the first token, on a prompt that is not cached."""
    messages = [{"role": "system", "content": f"Session {time.time()}. " + PERSONA},
                {"role": "user", "content": QUESTIONS[0]}]
    first, tokens, total = chat(port, messages, max_tokens)
    return (tokens - 1) / (total - first) if tokens > 1 and total > first else float("nan")


def aggregate(chat, port, streams, max_tokens):
    """Tokens per second over `streams` concurrent generations, each in its own conversation."""
    results = [None] * streams

    def run(index):
        messages = [{"role": "system", "content": PERSONA}, {"role": "user", "content": QUESTIONS[index % 10]}]
        results[index] = chat(port, messages, max_tokens, f"agg-{streams}-{index}-{time.time()}")
    started = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(r[1] for r in results) / (time.perf_counter() - started)


def growing_conversation(chat, port, turns, max_tokens, reuse):
    """Time to first token at each turn of one conversation that grows by a question and an answer."""
    # A system prompt no sequence has cached: turn 1 is a cold start.
    messages = [{"role": "system", "content": f"Session {time.time()}. " + PERSONA}]
    ttfts = []
    conversation = f"grow-{reuse}-{time.time()}"
    for turn in range(turns):
        messages.append({"role": "user", "content": QUESTIONS[turn % 10]})
        first, _, _ = chat(port, messages, max_tokens, conversation, reuse)
        ttfts.append(first)
        messages.append({"role": "assistant", "content": f"Aye. That's what I think about it, turn {turn}."})
    return ttfts


def game(chat, port, players, turns, max_tokens):
    """`players` conversations, turns sent together round-robin: TTFTs per turn, and the wall time."""
    histories = [[{"role": "system", "content": PERSONA}] for _ in range(players)]
    ttfts = [[0.0] * players for _ in range(turns)]
    stamp = time.time()
    started = time.perf_counter()
    for turn in range(turns):
        def run(player):
            history = histories[player]
            history.append({"role": "user", "content": QUESTIONS[(turn + player) % 10]})
            first, _, _ = chat(port, list(history), max_tokens, f"game-{stamp}-{player}")
            ttfts[turn][player] = first
            history.append({"role": "assistant", "content": f"Aye, player {player}. Turn {turn}, and the tide is turning."})
        threads = [threading.Thread(target=run, args=(p,)) for p in range(players)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return ttfts, time.perf_counter() - started


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_tool(command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifestrands", required=True)
    parser.add_argument("--tools", required=True, help="folder with llama-bench, llama-batched-bench, llama-server")
    parser.add_argument("--python", required=True, help="python of the venv with llama-cpp-python[server]")
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=48, help="reply length in the conversation workloads")
    parser.add_argument("--markdown")
    parser.add_argument("--servers", default="ours,llama,python",
                        help="which to run, for a quicker look: ours, llama (its tools and server), python")
    args = parser.parse_args()
    chosen = set(args.servers.split(","))
    rows = []

    def row(metric, *values):
        rows.append((metric, *values))
        print(f"{metric:<72} " + "  ".join(f"{v:>14}" for v in values), flush=True)

    print(f"model {os.path.basename(args.model)}, {args.threads} threads, {os.cpu_count()} cores", flush=True)
    print(f"{'':<72} {'Life Strands':>14}  {'llama.cpp':>14}  {'llama_cpp.py':>14}", flush=True)

    # Decode speed falls as the context grows: compare at the persona prompt's depth.
    tg64 = engine_tg = float("nan")
    ceiling = {}
    if "ours" in chosen:
        # Our engine in-process, as llama-bench measures llama.cpp's: same depth, tokens and repetitions.
        out = run_tool([args.lifestrands, "model", "bench", "--model", args.model, "--threads", str(args.threads),
                        "--depth", "350", "--tokens", "64", "--repetitions", "3"])
        engine_tg = float(re.search(r"decode ([0-9.]+) tok/s", out).group(1))
    if "llama" in chosen:
        tg = json.loads(run_tool([f"{args.tools}/llama-bench", "-m", args.model, "-t", str(args.threads), "-p", "0",
                                  "-n", "64", "-d", "350", "-r", "3", "-o", "json"]))
        tg64 = tg[0]["avg_ts"]
        for line in run_tool([f"{args.tools}/llama-batched-bench", "-m", args.model, "-t", str(args.threads),
                              "-c", "8192", "-b", "2048", "-ub", "512", "-npp", "300", "-ntg", "64", "-npl", "1,4,8",
                              "--output-format", "jsonl"]).splitlines():
            if line.startswith("{"):
                result = json.loads(line)
                ceiling[result["pl"]] = result["speed_tg"]

    port = 18400
    ours = Server("lifestrands", [args.lifestrands, "serve", "--port", str(port), "--data-dir", tempfile.mkdtemp()],
                  port, "/health", env={"MAX_CONCURRENT_CONVERSATIONS": "8", "ENABLE_EMBEDDINGS": "false",
                                        "CHAT_MODEL": args.model, "LOG_LEVEL": "warning",
                                        # Room for the chat model only, as the other servers hold only it.
                                        "MIN_VRAM_MB": "600"})
    llama = Server("llama-server", [f"{args.tools}/llama-server", "-m", args.model, "-t", str(args.threads),
                                    "-np", "8", "-c", str(8 * 2048), "--port", str(port + 1)], port + 1, "/health")
    python = Server("llama_cpp.server", [args.python, "-m", "llama_cpp.server", "--model", args.model,
                                         "--n_threads", str(args.threads), "--n_ctx", "2048", "--port", str(port + 2),
                                         "--interrupt_requests", "False"], port + 2, "/v1/models")
    results = {}
    for name, server, chat in [("ours", ours, chat_ours), ("llama", llama, chat_openai), ("python", python, chat_openai)]:
        if name not in chosen:
            continue
        with server:
            r = {}
            chat(server.port, [{"role": "user", "content": "Hello"}], 4)  # warm up
            r["single"] = statistics.median(decode_rate(chat, server.port, 64) for _ in range(3))
            r["agg"] = {n: aggregate(chat, server.port, n, 128) for n in (1, 4, 8)}
            if name == "ours":
                r["grow_reuse"] = growing_conversation(chat, server.port, args.turns, args.tokens, True)
                r["grow_noreuse"] = growing_conversation(chat, server.port, args.turns, args.tokens, False)
            r["game"], r["wall"] = game(chat, server.port, 8, args.turns, args.tokens)
            r["rss"] = server.peak_rss_mib()
            results[name] = r
            print(f"  ({name} done)", flush=True)

    nan = float("nan")
    skipped = {"single": nan, "agg": {n: nan for n in (1, 4, 8)}, "grow_reuse": [nan] * args.turns,
               "grow_noreuse": [nan] * args.turns, "game": [[nan] * 8] * args.turns, "wall": nan, "rss": nan}
    o, l, p = (results.get(name, skipped) for name in ("ours", "llama", "python"))
    f = lambda v: f"{v:.1f}"
    ms = lambda v: f"{v * 1000:.0f} ms"
    row("single-stream decode tok/s at depth ~350, in process (ours: lifestrands model bench; llama.cpp: "
        "llama-bench tg64 @ d350)", f(engine_tg), f(tg64), "")
    row("single-stream decode tok/s over HTTP, client on the same cores (llama.cpp: llama-server)", f(o["single"]),
        f(l["single"]), f(p["single"]))
    for n in (1, 4, 8):
        row(f"aggregate tok/s, {n} streams (llama.cpp: llama-server)", f(o["agg"][n]), f(l["agg"][n]), f(p["agg"][n]))
        row(f"  llama-batched-bench ceiling, {n} sequences", "", f(ceiling.get(n, float('nan'))), "")
    last = args.turns - 1
    row(f"TTFT one conversation, turn 1 / turn {args.turns}, KV reuse",
        f"{ms(o['grow_reuse'][0])} / {ms(o['grow_reuse'][last])}", "", "")
    row(f"TTFT one conversation, turn 1 / turn {args.turns}, no reuse",
        f"{ms(o['grow_noreuse'][0])} / {ms(o['grow_noreuse'][last])}", "", "")
    for turn in (0, last):
        row(f"8 players interleaved: TTFT p50, turn {turn + 1}",
            *(ms(statistics.median(r["game"][turn])) for r in (o, l, p)))
        row(f"8 players interleaved: TTFT p95, turn {turn + 1}",
            *(ms(percentile(r["game"][turn], 0.95)) for r in (o, l, p)))
    row(f"8 players x {args.turns} turns: total wall time", *(f"{r['wall']:.1f} s" for r in (o, l, p)))
    row("peak RSS of the server", *(f"{r['rss']:.0f} MiB" for r in (o, l, p)))

    if args.markdown:
        # The run's table replaces the one between the markers; the analysis around it stays.
        table = ("<!-- bench-model: start -->\n"
                 f"`make bench-model` on {time.strftime('%Y-%m-%d')}: model `{os.path.basename(args.model)}`, "
                 f"{args.threads} threads on a {os.cpu_count()}-core machine without a GPU; greedy decoding; "
                 f"a ~300-token persona as system prompt; replies of {args.tokens} tokens in the conversation "
                 "workloads, 128 in the throughput ones. \"llama.cpp\" is llama-bench, llama-batched-bench or "
                 "`llama-server -np 8`, \"llama_cpp.py\" is `llama_cpp.server --interrupt_requests False`, "
                 "both built from the same pinned llama-cpp-python 0.3.36 source.\n\n"
                 "| metric | Life Strands | llama.cpp | llama_cpp.py |\n|---|---:|---:|---:|\n"
                 + "".join(f"| {metric.strip()} | " + " | ".join(values) + " |\n" for metric, *values in rows)
                 + "<!-- bench-model: end -->")
        try:
            with open(args.markdown) as existing:
                document = existing.read()
        except FileNotFoundError:
            document = ""
        start, end = document.find("<!-- bench-model: start -->"), document.find("<!-- bench-model: end -->")
        if start >= 0 and end > start:
            document = document[:start] + table + document[end + len("<!-- bench-model: end -->"):]
        else:
            document = "# Model service benchmark\n\n" + table + "\n"
        with open(args.markdown, "w") as out:
            out.write(document)

if __name__ == "__main__":
    main()
