#!/usr/bin/env python3
"""Where a streamed token's time goes, ours against llama-server: `perf record` on the CPU clock.

Each server starts as the benchmark runs it. One conversation is warmed up (its prompt evaluated, a reply
generated), then perf samples the whole process while the same request runs `--replies` times more: each
finds its prompt cached, so what is sampled is decode steps and each token's way to the socket. The
samples are grouped by function and by part of the path (the model's arithmetic, llama.cpp's own work
per step, sampling, our engine, JSON, the HTTP server, the kernel's socket calls, waiting threads) and
printed as milliseconds per generated token. Timer samples need no hardware counters, so this runs where
`perf stat -e instructions` does not; valgrind cannot run Swift's async main.
"""
import argparse
import collections
import functools
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_model import PERSONA, QUESTIONS, Server, chat_ours, chat_openai  # noqa: E402

CACHE = os.environ.get("LIFESTRANDS_CACHE", os.path.expanduser("~/.cache/lifestrands"))

# A sample goes to the first part whose test matches a frame of its stack: the order matters.
PARTS = [
    ("decode step: llama_decode (model arithmetic, graph, KV cache)",
     re.compile(r"llama_decode|llama_context::decode|ggml_graph_compute|GOMP_parallel|gomp_thread_start")),
    ("sampling (logits, penalties, grammar)", re.compile(r"llama_sampler|Sampl|logits|Penalt")),
    ("detokenizing, UTF-8 and stop matching", re.compile(r"token_to_piece|Detokeniz|UTF8|StopMatch|stopSequence|"
                                                         r"validUTF|tokens_to_str|common_token_to_piece")),
    ("socket writes and reads (kernel)", re.compile(r"__sys_sendto|__sys_sendmsg|sock_write|tcp_sendmsg|do_writev|"
                                                    r"ksys_write|sock_read|tcp_recvmsg|ksys_read|__sys_recvfrom")),
    ("JSON encoding", re.compile(r"JSON|json|nlohmann")),
    ("HTTP server (SwiftNIO and Hummingbird; cpp-httplib)", re.compile(r"NIO|Hummingbird|httplib|HTTPServer")),
    ("waiting and waking threads (futex, epoll, scheduler)",
     re.compile(r"futex|epoll|__schedule|schedule_hrtimeout|pthread_cond|sched_yield|nanosleep|gomp_barrier|"
                r"gomp_team_barrier|try_to_wake_up")),
    ("engine loop, scheduler, token streams", re.compile(r"LlamaEngine|GenerationEngine|GenerationWorker|"
                                                         r"BatchScheduler|AsyncStream|AsyncThrowingStream|"
                                                         r"server_context|server_slot|server_queue|server_response")),
]


def sample(name, server, chat, tokens, replies, frequency, out_dir):
    """Warms one conversation up, then records perf samples over `replies` more turns of it."""
    messages = [{"role": "system", "content": PERSONA}, {"role": "user", "content": QUESTIONS[0]}]
    with server:
        print(f"==> {name}: warming up (prompt evaluated, {tokens} tokens generated)", flush=True)
        chat(server.port, messages, tokens, conversation="profile")
        # One perf session a reply. With perf attached, now and then one of our replies falls to 2-20 tok/s,
        # both decoding threads spinning in OpenMP's barrier; never seen without perf (dozens of replies
        # timed), so such a reply is left out of the figures, and named.
        replies_seen = []
        for index in range(replies):
            data = os.path.join(out_dir, f"{name}-{index}.perf.data")
            perf = subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", str(frequency), "--call-graph",
                                     "dwarf,8192", "-p", str(server.process.pid), "-o", data],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)  # perf attaches to every thread before the reply starts
            reply = chat(server.port, messages, tokens, conversation="profile")
            perf.send_signal(signal.SIGINT)
            perf.wait(timeout=60)
            replies_seen.append((data, reply[1], reply[2]))
            print(f"    {reply[1]} tokens at {reply[1] / reply[2]:.1f} tok/s", flush=True)
    # A reply under half the median pace is left out and named: see the note on perf above.
    typical = statistics.median(tokens / seconds for _, tokens, seconds in replies_seen)
    kept = [(data, tokens, seconds) for data, tokens, seconds in replies_seen if tokens / seconds >= typical / 2]
    for data, tokens, seconds in replies_seen:
        if (data, tokens, seconds) not in kept:
            print(f"    left out: {tokens} tokens at {tokens / seconds:.1f} tok/s (median {typical:.1f})", flush=True)
    files = [data for data, _, _ in kept]
    generated = sum(tokens for _, tokens, _ in kept)
    wall = sum(seconds for _, _, seconds in kept)
    print(f"==> {name}: sampled {len(kept)} replies, {generated} tokens in {wall:.2f} s "
          f"({generated / wall:.1f} tok/s with the sampler attached)", flush=True)
    return files, generated, wall


def stacks(files):
    """Each sample as (nanoseconds, frames leaf first, as "symbol (dso)"), from `perf script`."""
    for data in files:
        text = subprocess.run(["perf", "script", "-i", data, "-F", "period,ip,sym,dso"], capture_output=True,
                              text=True).stdout
        for block in text.split("\n\n"):
            lines = [line.strip() for line in block.strip().splitlines()]
            if not lines or not lines[0].split()[0].isdigit():
                continue
            period = int(lines[0].split()[0])
            frames = [frame(line) for line in lines[1:]]
            if frames:
                yield period, frames


def frame(line):
    """ "7f52… ggml_vec_dot_q4_1_q8_1+0x1c (/path/libggml-cpu.so)" → "ggml_vec_dot_q4_1_q8_1 (libggml-cpu.so)" """
    match = re.match(r"^[0-9a-f]+\s+(.*?)(?:\+0x[0-9a-f]+)?\s+\((.*)\)$", line)
    if not match:
        return line
    return f"{demangle(match.group(1))} ({os.path.basename(match.group(2))})"


def part(frames):
    for name, test in PARTS:
        if any(test.search(frame) for frame in frames):
            return name
    return "other (Swift runtime, allocation, the rest)"


@functools.lru_cache(maxsize=None)
def demangle(symbol):
    if symbol.startswith("$s"):
        result = subprocess.run(["swift-demangle", "-simplified", "-compact", symbol], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip():
            symbol = result.stdout.strip()
    return symbol


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifestrands", default=".build/release/lifestrands")
    parser.add_argument("--llama-server", default=f"{CACHE}/llama-server-0.3.36/bin/llama-server")
    parser.add_argument("--model", default=f"{CACHE}/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--tokens", type=int, default=128, help="reply length")
    parser.add_argument("--replies", type=int, default=4, help="replies sampled")
    parser.add_argument("--frequency", type=int, default=999, help="samples a second per thread")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--servers", default="ours,llama")
    args = parser.parse_args()
    out_dir = tempfile.mkdtemp(prefix="profile-stream-")
    chosen = args.servers.split(",")
    results = []
    if "ours" in chosen:
        port = 18500
        env = {"MAX_CONCURRENT_CONVERSATIONS": "8", "CHAT_MODEL": args.model, "SUMMARY_MODEL": args.model,
               "LOG_LEVEL": "warning", "MODEL_THREADS": str(args.threads),
               "RATE_LIMIT_GENERATION": "1000000/min", "RATE_LIMIT_OTHER": "1000000/min"}
        server = Server("lifestrands", [args.lifestrands, "serve", "--port", str(port), "--data-dir",
                                        tempfile.mkdtemp()], port, "/health", env=env)
        results.append(("Life Strands", *sample("ours", server, chat_ours, args.tokens, args.replies, args.frequency,
                                                out_dir)))
    if "llama" in chosen:
        port = 18501
        server = Server("llama-server", [args.llama_server, "-m", args.model, "-t", str(args.threads), "-np", "8",
                                         "-c", str(8 * 2048), "--port", str(port)], port, "/health")
        results.append(("llama-server", *sample("llama", server, chat_openai, args.tokens, args.replies,
                                                 args.frequency, out_dir)))
    print(f"\nperf data in {out_dir}; CPU time per generated token, all threads, in ms")
    for title, files, tokens, wall in results:
        by_part, by_leaf, total = collections.Counter(), collections.Counter(), 0
        for period, frames in stacks(files):
            by_part[part(frames)] += period
            by_leaf[frames[0]] += period
            total += period
        per_token = lambda nanoseconds: nanoseconds / 1e6 / tokens  # noqa: E731
        print(f"\n{title}: {wall / tokens * 1000:.2f} ms of wall time a token, {per_token(total):.2f} ms of CPU "
              f"time sampled ({args.threads} decoding threads)")
        print("  ms a token  part of the path (a sample counts in the first part any frame of its stack is in)")
        for name, nanoseconds in by_part.most_common():
            print(f"  {per_token(nanoseconds):10.3f}  {name}")
        print("  ms a token  function (self time)")
        for leaf, nanoseconds in by_leaf.most_common(args.top):
            shown = leaf if len(leaf) <= 110 else leaf[:107] + "..."
            print(f"  {per_token(nanoseconds):10.3f}  {shown}")


if __name__ == "__main__":
    main()
