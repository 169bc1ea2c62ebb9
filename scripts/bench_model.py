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
import queue
import random
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


class Reply(tuple):
    """(time to first token, generated tokens, seconds), and the prompt's tokens and how many of them came
    from a cache (None where the server does not say)."""
    def __new__(cls, first, tokens, seconds, prompt=None, cached=None, restored=None):
        reply = super().__new__(cls, (first, tokens, seconds))
        reply.prompt, reply.cached, reply.restored = prompt, cached, restored
        return reply


def chat_ours(port, messages, max_tokens, conversation=None, reuse=True, model=None, arrivals=None):
    """One generation on our service; `arrivals`, when given, gets the clock at each piece of text."""
    started = time.perf_counter()
    state = {"first": None, "tokens": 0, "prompt": None, "cached": None, "restored": None}

    def on_line(line):
        event = json.loads(line)
        if "token" in event and arrivals is not None:
            arrivals.append(time.perf_counter())
        if "token" in event and state["first"] is None:
            state["first"] = time.perf_counter() - started
        if event.get("done"):
            state["tokens"] = event["generated_tokens"]
            state["prompt"], state["cached"] = event.get("prompt_tokens"), event.get("cached_tokens")
            state["restored"] = event.get("restored_tokens")
        if "error" in event:
            raise RuntimeError(event["error"])
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "reuse_cache": reuse}
    if conversation:
        body["conversation_id"] = conversation
    if model:
        body["model"] = model
    post_stream(port, "/api/models/generate", body, on_line)
    return Reply(state["first"] or 0.0, state["tokens"], time.perf_counter() - started, state["prompt"], state["cached"],
                 state["restored"])


def chat_openai(port, messages, max_tokens, conversation=None, reuse=True, model=None, arrivals=None):
    """One generation on an OpenAI-compatible server (llama-server, llama_cpp.server), streamed. llama-server's
    last chunk carries `timings`: prompt tokens evaluated (`prompt_n`) and taken from its cache (`cache_n`)."""
    started = time.perf_counter()
    state = {"first": None, "tokens": 0, "prompt": None, "cached": None}

    def on_line(line):
        if not line.startswith(b"data:"):
            return
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return
        event = json.loads(payload)
        for choice in event.get("choices", []):
            if choice.get("delta", {}).get("content"):
                if arrivals is not None:
                    arrivals.append(time.perf_counter())
                if state["first"] is None:
                    state["first"] = time.perf_counter() - started
                state["tokens"] += 1
        timings = event.get("timings")
        if timings and "prompt_n" in timings:
            state["cached"] = timings.get("cache_n", 0)
            state["prompt"] = timings["prompt_n"] + state["cached"]
    body = {"messages": messages, "max_tokens": max_tokens, "temperature": 0, "stream": True}
    post_stream(port, "/v1/chat/completions", body, on_line)
    return Reply(state["first"] or 0.0, state["tokens"], time.perf_counter() - started, state["prompt"], state["cached"])


class Server:
    def __init__(self, name, command, port, health, env=None, startup_seconds=180):
        self.name, self.command, self.port, self.health = name, command, port, health
        self.startup_seconds = startup_seconds
        self.env = {**os.environ, **(env or {})}

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command, stdout=self.log, stderr=self.log, env=self.env,
                                        start_new_session=True)
        deadline = time.time() + self.startup_seconds
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
    """`players` conversations, turns sent together round-robin: TTFTs per turn, and the wall time. The persona
    carries this run's stamp, so no server starts with it cached from an earlier workload."""
    stamp = time.time()
    histories = [[{"role": "system", "content": f"[{stamp}] " + PERSONA}] for _ in range(players)]
    ttfts = [[0.0] * players for _ in range(turns)]
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


def crowd(chat, port, players, npcs, turns, max_tokens, workers, seed=7):
    """The seed's scale: `players` conversations with `npcs` NPCs (player i talks to NPC i mod npcs), `turns`
    turns each. Each round every player speaks once, in a shuffled order, `workers` requests at a time, so a
    player comes back after dozens of others have spoken: more conversations than sequences. Returns one
    record per reply and the wall time."""
    stamp = time.time()
    personas = [f"[{stamp}] Port Ashby, voice {npc}. " + PERSONA for npc in range(npcs)]
    histories = [[{"role": "system", "content": personas[player % npcs]}] for player in range(players)]
    records, failures = [], []
    lock = threading.Lock()
    shuffler = random.Random(seed)
    started = time.perf_counter()
    for turn in range(turns):
        order = list(range(players))
        shuffler.shuffle(order)
        pending = queue.Queue()
        for player in order:
            pending.put(player)

        def work():
            while True:
                try:
                    player = pending.get_nowait()
                except queue.Empty:
                    return
                history = histories[player]
                history.append({"role": "user", "content": QUESTIONS[(turn + player) % 10]})
                try:
                    reply = chat(port, list(history), max_tokens, f"crowd-{stamp}-{player}")
                except Exception as error:  # a failed request fails the workload, not only its thread
                    with lock:
                        failures.append(error)
                    return
                history.append({"role": "assistant", "content": f"Aye, player {player}. Turn {turn}, and the tide is turning."})
                with lock:
                    records.append({"player": player, "turn": turn, "ttft": reply[0], "tokens": reply[1],
                                    "prompt": reply.prompt, "cached": reply.cached, "restored": reply.restored})
        threads = [threading.Thread(target=work) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if failures:
            raise RuntimeError(f"the crowd workload failed in round {turn + 1}: {failures[0]}")
    return records, time.perf_counter() - started


def crowd_figures(records, wall):
    """TTFT percentiles (turn 1, the last turn, all), tokens/s, prompt tokens evaluated ÷ prompt tokens, returning
    turns that found their conversation's cache gone, and fairness (the worst player's mean TTFT ÷ the best's)."""
    last = max(r["turn"] for r in records)
    figures = {}
    for name, chosen in [("turn 1", [r for r in records if r["turn"] == 0]),
                         (f"turn {last + 1}", [r for r in records if r["turn"] == last]), ("all turns", records)]:
        values = [r["ttft"] for r in chosen]
        figures[name] = tuple(percentile(values, q) for q in (0.5, 0.95, 0.99))
    figures["tok/s"] = sum(r["tokens"] for r in records) / wall
    counted = [r for r in records if r["prompt"] is not None]
    prompt = sum(r["prompt"] for r in counted)
    figures["evaluated"] = (prompt - sum(r["cached"] for r in counted)) / prompt if prompt else float("nan")
    # A returning turn "lost its cache" when less than the conversation's last prompt came from a cache (8 tokens
    # of slack for a server that evaluates the last few again): that prompt had been evaluated, so it was evicted,
    # and not restored, in between. A persona shared with another conversation does not count as kept.
    previous = {(r["player"], r["turn"]): r["prompt"] for r in counted}
    returning = [r for r in counted if r["turn"] > 0 and previous.get((r["player"], r["turn"] - 1))]
    figures["lost"] = (sum(1 for r in returning if r["cached"] < previous[(r["player"], r["turn"] - 1)] - 8),
                       len(returning)) if counted else None
    # Only our server says which turns came back from the RAM cache.
    told = [r for r in returning if r.get("restored") is not None]
    figures["restored"] = (sum(1 for r in told if r["restored"] > 0), len(told)) if told else None
    means = {}
    for r in records:
        means.setdefault(r["player"], []).append(r["ttft"])
    averages = [statistics.mean(v) for v in means.values()]
    figures["fairness"] = max(averages) / min(averages) if min(averages) > 0 else float("nan")
    figures["wall"] = wall
    return figures


def long_prompt_arrives(chat, port, streams, reply_tokens):
    """`streams` replies decoding when a new request with a ~1,500-token prompt arrives (a new player with a long
    history): the gaps between the streams' tokens before it arrives, and from its arrival to its first token."""
    stamp = time.time()
    arrivals = [[] for _ in range(streams)]

    def stream(index):
        chat(port, [{"role": "system", "content": f"[{stamp}] {index}. " + PERSONA},
                    {"role": "user", "content": "Tell me the whole story of the storm of '98, every hour of it."}],
             reply_tokens, arrivals=arrivals[index])
    threads = [threading.Thread(target=stream, args=(i,)) for i in range(streams)]
    for thread in threads:
        thread.start()
    deadline = time.time() + 300
    while min(len(a) for a in arrivals) < 10 and time.time() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    history = [{"role": "system", "content": f"[{stamp}] The long history. " + " ".join([PERSONA] * 5)},
               {"role": "user", "content": "What do you remember of all that?"}]
    arrived = time.perf_counter()
    reply = chat(port, history, 4)
    first = arrived + reply[0]
    for thread in threads:
        thread.join()
    gaps = {"before": [], "during": []}
    for times in arrivals:
        for earlier, later in zip(times, times[1:]):
            if later < arrived:
                gaps["before"].append(later - earlier)
            elif later <= first:
                gaps["during"].append(later - earlier)
    return {"gaps": gaps, "ttft": reply[0], "prompt": reply.prompt}


ANALYSIS = (
    "You analyse a finished conversation between a player and Tomas Varga, a boat captain. Write a summary in "
    "two sentences, then list what Tomas should remember, what he learned, and how his trust in the player "
    "changed, each with the line it comes from.\n\n")


def summaries_beside(chat, port, players, turns, max_tokens, jobs, summary_model):
    """`players` chatting while `jobs` finished conversations are analysed one after another on the same model
    and cores (ours: the summary model's role; llama-server: its one model). Returns the chat TTFTs (all
    turns) and each analysis's latency."""
    results = {}

    def analyse():
        latencies = []
        for job in range(jobs):
            transcript = "".join(f"[{2 * i + 1}] player: {QUESTIONS[(i + job) % 10]}\n[{2 * i + 2}] Tomas: Aye, the sea "
                                 f"was rough that year, and the gulls flew inland at noon, job {job}.\n"
                                 for i in range(10))
            messages = [{"role": "system", "content": ANALYSIS + transcript},
                        {"role": "user", "content": "The analysis, please."}]
            latencies.append(chat(port, messages, 160, model=summary_model)[2])
        results["latencies"] = latencies
    worker = threading.Thread(target=analyse)
    worker.start()
    results["ttfts"] = [t for turn in game(chat, port, players, turns, max_tokens)[0] for t in turn]
    worker.join()
    return results


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def run_tool(command):
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifestrands", required=True)
    parser.add_argument("--tools", required=True, help="folder with llama-server (and, unless --quick, llama-bench, "
                                                         "llama-batched-bench)")
    parser.add_argument("--python", help="python of the venv with llama-cpp-python[server] (not needed with --quick)")
    parser.add_argument("--model", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=48, help="reply length in the conversation workloads")
    parser.add_argument("--players", type=int, default=50, help="conversations in the crowd workload")
    parser.add_argument("--npcs", type=int, default=5, help="NPCs they talk to")
    parser.add_argument("--crowd-turns", type=int, help="turns each in the crowd workload (10; 6 with --quick)")
    parser.add_argument("--crowd-tokens", type=int, help="reply length in the crowd workload (32; 24 with --quick)")
    parser.add_argument("--summaries", type=int, help="analyses run beside chat (4; 2 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="the conversation workloads only, ours against llama-server -np 8: under 10 minutes")
    parser.add_argument("--variants", action="store_true",
                        help="with --quick, also run the crowd workload on llama-server -np 16 and with --cache-ram 0")
    parser.add_argument("--markdown")
    parser.add_argument("--servers", default="ours,llama,python",
                        help="which to run, for a quicker look: ours, llama (its tools and server), python")
    args = parser.parse_args()
    for name, full, quick in [("crowd_turns", 10, 6), ("crowd_tokens", 32, 24), ("summaries", 4, 2)]:
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    began = time.perf_counter()
    chosen = set(args.servers.split(","))
    if args.quick:
        chosen &= {"ours", "llama"}
    tables = []

    def table(title, headers):
        rows = []
        tables.append((title, headers, rows))
        print(f"\n{title}\n{'':<72} " + "  ".join(f"{h:>14}" for h in headers), flush=True)

        def row(metric, *values):
            rows.append((metric, *values))
            print(f"{metric:<72} " + "  ".join(f"{v:>14}" for v in values), flush=True)
        return row

    print(f"model {os.path.basename(args.model)}, {args.threads} threads, {os.cpu_count()} cores"
          + (", quick" if args.quick else ""), flush=True)

    # Decode speed falls as the context grows: compare at the persona prompt's depth.
    tg64 = engine_tg = float("nan")
    ceiling = {}
    if "ours" in chosen and not args.quick:
        # Our engine in-process, as llama-bench measures llama.cpp's: same depth, tokens and repetitions.
        out = run_tool([args.lifestrands, "model", "bench", "--model", args.model, "--threads", str(args.threads),
                        "--depth", "350", "--tokens", "64", "--repetitions", "3"])
        engine_tg = float(re.search(r"decode ([0-9.]+) tok/s", out).group(1))
    if "llama" in chosen and not args.quick:
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

    def ours_server():
        # As `serve` runs by default: chat and summary on one copy of the model, the embedder loaded.
        return Server("lifestrands", [args.lifestrands, "serve", "--port", str(port), "--data-dir", tempfile.mkdtemp()],
                      port, "/health", env={"MAX_CONCURRENT_CONVERSATIONS": "8",
                                            "CHAT_MODEL": args.model, "SUMMARY_MODEL": args.model, "LOG_LEVEL": "warning",
                                            # One client stands for many players here: no rate limits.
                                            "RATE_LIMIT_GENERATION": "1000000/min", "RATE_LIMIT_OTHER": "1000000/min"})

    def memory(port):
        """Where our server's memory goes, from its model status."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/models/status")
        return json.loads(connection.getresponse().read())["memory"]

    def llama_server(slots, cache_ram=None):
        command = [f"{args.tools}/llama-server", "-m", args.model, "-t", str(args.threads), "-np", str(slots),
                   "-c", str(slots * 2048), "--port", str(port + 1)]
        if cache_ram is not None:
            command += ["--cache-ram", str(cache_ram)]
        return Server("llama-server", command, port + 1, "/health")

    servers = [("ours", ours_server(), chat_ours), ("llama", llama_server(8), chat_openai)]
    if not args.quick and "python" in chosen:
        servers.append(("python", Server(
            "llama_cpp.server", [args.python, "-m", "llama_cpp.server", "--model", args.model, "--n_threads",
                                 str(args.threads), "--n_ctx", "2048", "--port", str(port + 2), "--interrupt_requests",
                                 "False"], port + 2, "/v1/models"), chat_openai))
    results = {}
    for name, server, chat in servers:
        if name not in chosen:
            continue
        with server:
            r = {}
            chat(server.port, [{"role": "user", "content": "Hello"}], 4)  # warm up
            if name == "ours":
                r["memory_idle"] = memory(server.port)
            if not args.quick:
                r["single"] = statistics.median(decode_rate(chat, server.port, 64) for _ in range(3))
                r["agg"] = {n: aggregate(chat, server.port, n, 128) for n in (1, 4, 8)}
            if name == "ours" and not args.quick:
                r["grow_reuse"] = growing_conversation(chat, server.port, args.turns, args.tokens, True)
                r["grow_noreuse"] = growing_conversation(chat, server.port, args.turns, args.tokens, False)
            r["game"], r["wall"] = game(chat, server.port, 8, args.turns, args.tokens)
            if name != "python":
                r["crowd"] = crowd_figures(*crowd(chat, server.port, args.players, args.npcs, args.crowd_turns,
                                                  args.crowd_tokens, 8))
            if name != "python":
                r["stall"] = long_prompt_arrives(chat, server.port, 6, 200)
                # Ours analyses on its summary role (its own engine on the chat model's weights); llama-server on
                # its chat slots.
                r["alone"] = [t for turn in game(chat, server.port, 8, 5, args.tokens)[0] for t in turn]
                r["beside"] = summaries_beside(chat, server.port, 8, 5, args.tokens, args.summaries,
                                               "summary" if name == "ours" else None)
            if name == "ours":
                r["memory_end"] = memory(server.port)
            r["rss"] = server.peak_rss_mib()
            results[name] = r
            print(f"  ({name} done, {time.perf_counter() - began:.0f} s in)", flush=True)
    cache_rows = []
    if "ours" in chosen:
        # In process: whether restoring an evicted conversation's cache pays against evaluating its prompt again.
        # A quick run returns at turn 10 only, with two conversations more than sequences (each return still
        # finds its sequence taken); turn 30's prompts take minutes to evaluate.
        out = run_tool([args.lifestrands, "model", "bench-cache", "--model", args.model, "--threads", str(args.threads)]
                       + (["--turns", "10", "--conversations", "10"] if args.quick else ["--turns", "10,30"]))
        for line in out.splitlines():
            m = re.match(r"\s*(\d+)\s+(\d+)\s+(restored|evaluated)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", line)
            if m:
                cache_rows.append((int(m[1]), int(m[2]), m[3], *(float(m[i]) for i in range(4, 9))))
        print(f"  (bench-cache done, {time.perf_counter() - began:.0f} s in)", flush=True)
    variants = []
    if "llama" in chosen and (args.variants or not args.quick):
        # llama-server's host-RAM cache of evicted slots on and off, with as many slots as our sequences and twice.
        for label, slots, cache_ram in [("-np 8, --cache-ram 0", 8, 0), ("-np 16", 16, None), ("-np 16, --cache-ram 0", 16, 0)]:
            with llama_server(slots, cache_ram) as server:
                chat_openai(server.port, [{"role": "user", "content": "Hello"}], 4)
                variants.append((label, crowd_figures(*crowd(chat_openai, server.port, args.players, args.npcs,
                                                             args.crowd_turns, args.crowd_tokens, 8))))
            print(f"  (llama-server {label} done, {time.perf_counter() - began:.0f} s in)", flush=True)

    nan = float("nan")
    skipped = {"single": nan, "agg": {n: nan for n in (1, 4, 8)}, "grow_reuse": [nan] * args.turns,
               "grow_noreuse": [nan] * args.turns, "game": [[nan] * 8] * args.turns, "wall": nan, "rss": nan}
    o, l, p = (results.get(name, skipped) for name in ("ours", "llama", "python"))
    f = lambda v: f"{v:.1f}"
    ms = lambda v: f"{v * 1000:.0f} ms"
    # A quick run has no llama_cpp.server column.
    shown = (o, l) if args.quick else (o, l, p)
    row = table("Throughput and conversations", ["Life Strands", "llama.cpp", "llama_cpp.py"][:len(shown)])
    if not args.quick:
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
    last = args.turns - 1
    for turn in (0, last):
        row(f"8 players interleaved: TTFT p50, turn {turn + 1}",
            *(ms(statistics.median(r["game"][turn])) for r in shown))
        row(f"8 players interleaved: TTFT p95, turn {turn + 1}",
            *(ms(percentile(r["game"][turn], 0.95)) for r in shown))
    row(f"8 players x {args.turns} turns: total wall time", *(f"{r['wall']:.1f} s" for r in shown))
    row("peak RSS of the server", *(f"{r['rss']:.0f} MiB" for r in shown))

    columns = [(label, r["crowd"]) for label, r in (("Life Strands", o), ("llama-server -np 8", l)) if "crowd" in r]
    columns += [(f"llama-server {label}", figures) for label, figures in variants]
    if columns:
        row = table(f"{args.players} players with {args.npcs} NPCs, {args.crowd_turns} turns each, {args.crowd_tokens}-token "
                    "replies, 8 requests at a time in a shuffled order each round", [c[0] for c in columns])
        figures = [c[1] for c in columns]
        for name in figures[0]:
            if name in ("tok/s", "evaluated", "lost", "restored", "fairness", "wall"):
                continue
            row(f"TTFT p50 / p95 / p99, {name}", *(" / ".join(ms(v) for v in x[name]) for x in figures))
        row("generated tok/s", *(f(x["tok/s"]) for x in figures))
        row("prompt tokens evaluated / prompt tokens (1 - cache hit rate)", *(f"{x['evaluated']:.2f}" for x in figures))
        row("returning turns that found their cache gone (evicted, not restored)",
            *(f"{x['lost'][0]} of {x['lost'][1]}" if x["lost"] else "n/a" for x in figures))
        row("returning turns whose cache was restored from RAM", *(f"{x['restored'][0]} of {x['restored'][1]}"
                                                                    if x.get("restored") else "n/a" for x in figures))
        row("fairness: worst player's mean TTFT / best player's", *(f"{x['fairness']:.2f}" for x in figures))
        row("wall time", *(f"{x['wall']:.0f} s" for x in figures))
    if cache_rows:
        row = table(f"Returning conversations, in process (`lifestrands model bench-cache`): {10 if args.quick else 16} "
                    "conversations over 8 sequences, 8 at a time, each back for its next turn after the others took "
                    "its sequence",
                    ["cache restored from RAM", "prompt evaluated again"])
        for turn in sorted({r[0] for r in cache_rows}):
            restored = next(r for r in cache_rows if r[0] == turn and r[2] == "restored")
            evaluated = next(r for r in cache_rows if r[0] == turn and r[2] == "evaluated")
            row(f"turn {turn} ({restored[1]}-token prompt): TTFT p50 / p95",
                *(f"{r[3]:.0f} / {r[4]:.0f} ms" for r in (restored, evaluated)))
            row(f"turn {turn}: prompt tokens evaluated per turn", *(f"{r[5]:.0f}" for r in (restored, evaluated)))
            row(f"turn {turn}: wall time of the returning turns", *(f"{r[6]:.1f} s" for r in (restored, evaluated)))
            row(f"turn {turn}: RAM the saved caches take", f"{restored[7]:.0f} MiB", "0")
    stalls = [(label, r["stall"]) for label, r in (("Life Strands", o), ("llama-server -np 8", l)) if "stall" in r]
    if stalls:
        row = table("6 replies streaming when a new request with a ~1,500-token prompt arrives: gaps between the "
                    "streams' tokens", [c[0] for c in stalls])
        row("prompt tokens of the new request / its TTFT",
            *(f"{x['prompt'] or '?'} / {ms(x['ttft'])}" for _, x in stalls))
        for phase in ("before", "during"):
            label = "before it arrives" if phase == "before" else "from its arrival to its first token"
            row(f"inter-token p50 / p99, {label}",
                *(f"{ms(percentile(x['gaps'][phase], 0.5))} / {ms(percentile(x['gaps'][phase], 0.99))}"
                  if x["gaps"][phase] else "n/a" for _, x in stalls))
        row("p99 while it is evaluated ÷ p50 before",
            *(f"{percentile(x['gaps']['during'], 0.99) / percentile(x['gaps']['before'], 0.5):.1f}"
              if x["gaps"]["during"] and x["gaps"]["before"] else "n/a" for _, x in stalls))
        row("tokens the streams received meanwhile", *(str(len(x["gaps"]["during"])) for _, x in stalls))
    if "memory_end" in o:
        row = table("Where Life Strands' memory goes (`model status`: llama.cpp's allocations and the process's RSS), "
                    "chat and summary on one copy of the weights, the embedder loaded",
                    ["after start-up", "after the workloads"])
        mib = lambda m, key: f"{m.get(key, 0) / 1048576:.0f} MiB"
        idle, end = o["memory_idle"], o["memory_end"]
        row("process RSS / at its peak", *(f"{mib(m, 'rss_bytes')} / {mib(m, 'peak_rss_bytes')}" for m in (idle, end)))
        for key, label in (("weights_bytes", "model weights (chat and summary share them)"),
                           ("kv_cache_bytes", "KV cache (chat and summary engines)"),
                           ("compute_bytes", "compute buffers"), ("saved_state_bytes", "saved conversations (RAM)"),
                           ("embedder_bytes", "embedder (weights, context, compute)")):
            row(label, *(mib(m, key) for m in (idle, end)))
        parts = ("weights_bytes", "kv_cache_bytes", "compute_bytes", "saved_state_bytes", "embedder_bytes")
        row("RSS not in these (runtime, allocator, weights not yet paged in: negative)",
            *(f"{(m.get('rss_bytes', 0) - sum(m.get(k, 0) for k in parts)) / 1048576:.0f} MiB" for m in (idle, end)))
    beside = [(label, r) for label, r in (("Life Strands", o), ("llama-server -np 8", l)) if "beside" in r]
    if beside:
        row = table(f"8 players chatting (5 turns) while {args.summaries} conversations are analysed (160 tokens each) on "
                    "the same cores", [c[0] for c in beside])
        row("chat TTFT p95 alone", *(ms(percentile(r["alone"], 0.95)) for _, r in beside))
        row("chat TTFT p95 with analyses running", *(ms(percentile(r["beside"]["ttfts"], 0.95)) for _, r in beside))
        row("chat TTFT p95 with ÷ without", *(f"{percentile(r['beside']['ttfts'], 0.95) / percentile(r['alone'], 0.95):.2f}"
                                               for _, r in beside))
        row("each analysis's latency, s", *(", ".join(f"{v:.1f}" for v in r["beside"]["latencies"]) for _, r in beside))
    took = time.perf_counter() - began
    print(f"\nbench-model{' (quick)' if args.quick else ''} took {took / 60:.1f} minutes", flush=True)

    if args.markdown:
        # The run's tables replace those between the markers; the analysis around them stays.
        marker = "bench-model-quick" if args.quick else "bench-model"
        text = (f"<!-- {marker}: start -->\n"
                f"`make bench-model{' quick=1' if args.quick else ''}` on {time.strftime('%Y-%m-%d')} "
                f"({took / 60:.0f} minutes): model `{os.path.basename(args.model)}`, "
                f"{args.threads} threads on a {os.cpu_count()}-core machine without a GPU; greedy decoding; "
                f"a ~300-token persona as system prompt; replies of {args.tokens} tokens in the conversation "
                f"workloads{'' if args.quick else ', 128 in the throughput ones'}. \"llama.cpp\" is llama-bench, llama-batched-bench or "
                "`llama-server -np 8` (its defaults: host-RAM cache of evicted slots on), \"llama_cpp.py\" is "
                "`llama_cpp.server --interrupt_requests False`, all built from the same pinned llama-cpp-python "
                "0.3.36 source.\n")
        for title, headers, rows in tables:
            text += (f"\n**{title}**\n\n| metric | " + " | ".join(headers) + " |\n|---|" + "---:|" * len(headers) + "\n"
                     + "".join(f"| {metric.strip()} | " + " | ".join(values) + " |\n" for metric, *values in rows))
        text += f"<!-- {marker}: end -->"
        try:
            with open(args.markdown) as existing:
                document = existing.read()
        except FileNotFoundError:
            document = ""
        start, end = document.find(f"<!-- {marker}: start -->"), document.find(f"<!-- {marker}: end -->")
        if start >= 0 and end > start:
            document = document[:start] + text + document[end + len(f"<!-- {marker}: end -->"):]
        elif document:
            document = document.rstrip("\n") + "\n\n" + text + "\n"
        else:
            document = "# Model service benchmark\n\n" + text + "\n"
        with open(args.markdown, "w") as out:
            out.write(document)


if __name__ == "__main__":
    main()
