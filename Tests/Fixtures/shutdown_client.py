"""Sends SIGTERM to a server while a generation and a chat reply stream, asks it something new during the
drain, and reads both streams to their end. Usage: shutdown_client.py BASE PID SESSION. Prints JSON."""
import json
import os
import signal
import sys

import requests

from deadline import deadline


def lines(response):
    for raw in response.iter_lines():
        if raw:
            yield json.loads(raw)


def main(base, pid, session):
    report = {}
    # A reply that cannot end before 600 characters: it is still streaming when the signal comes.
    generation = requests.post(base + "/api/models/generate", stream=True, timeout=300, json={
        "prompt": "Describe the harbour at dawn.", "max_tokens": 400,
        "json_schema": {"type": "string", "minLength": 600, "maxLength": 900}})
    generated = lines(generation)
    report["generation_first"] = next(generated)
    chat = requests.post(f"{base}/api/conversations/{session}/message", stream=True, timeout=300,
                         json={"content": "Tell me about the storm that sank the boats."})
    replied = lines(chat)
    first = next(replied)
    tokens = [first.get("token", "")]
    os.kill(int(pid), signal.SIGTERM)
    # Draining: a new request is refused, and says why. The signal arrives a moment after kill returns,
    # so a request may still be served before it: ask again until one is refused (at most 200 times).
    for _ in range(200):
        refused = requests.get(base + "/api/npcs", timeout=30)
        if refused.status_code != 200:
            break
    report["during_drain"] = {"status": refused.status_code, "code": refused.json()["error"]["code"],
                              "retry_after": refused.headers.get("Retry-After")}
    done = None
    for line in replied:
        if "token" in line:
            tokens.append(line["token"])
        else:
            done = line
    report["reply"] = "".join(tokens)
    report["reply_done"] = done
    report["generation_last"] = list(generated)[-1]
    print(json.dumps(report))


if __name__ == "__main__":
    # Two replies read through a drain, within a 5-minute suite.
    deadline(240, "reading both streams through the drain")
    main(*sys.argv[1:4])
