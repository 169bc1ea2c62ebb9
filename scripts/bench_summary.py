#!/usr/bin/env python3
"""`make bench-summary`: which model fills the conversation-analysis schema better, on a small scripted set.

Starts `lifestrands serve` on a loopback port, creates one NPC, and asks `/api/summaries/preview` for each
scripted conversation with Gemma 3 270M and with SmolLM2, then holds each conversation for real with the defaults
and asks about it later, counting which path brought the stated facts back: the evidence memory or the analysis. For each it scores:
  - valid: the analysis was returned (the server validated it against the schema);
  - facts: of the facts the player stated plainly (listed with each script), how many the analysis
    mentions anywhere (summary, key points, memories, knowledge);
  - filled: how many of the five inference lists/objects are non-empty;
  - seconds per analysis.
Prints one table (and writes it as Markdown with --markdown FILE). Stdlib only; every loop is bounded.
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from bench_model import Server  # noqa: E402
import http.client  # noqa: E402

TOMAS = {
    "name": "Tomas Varga",
    "background": {"age": 58, "occupation": "boat captain", "location": "Port Ashby",
                   "history": "Fished these waters for thirty years; now ferries scientists to the kelp beds."},
    "personality": {"traits": ["gruff", "loyal", "superstitious"], "fears": ["storms out of season"]},
    "current_status": {"mood": "wary", "health": "good", "energy": "low"},
}
SCRIPTS = [
    ("a name and a loss", ["ana", "gaviota", "storm"], [
        ("user", "Hello captain. My name is Ana."),
        ("npc", "Aye. What brings you to the harbour?"),
        ("user", "I lost my boat, the Gaviota, in the storm last week."),
        ("npc", "Sorry to hear it. The sea takes what it wants."),
        ("user", "My father built the Gaviota with his own hands."),
    ]),
    ("a place and a plan", ["lisbon", "kelp", "friday"], [
        ("user", "I'm a diver from Lisbon, here to study the kelp beds."),
        ("npc", "The kelp beds? Rough water out there."),
        ("user", "Can you take me out on Friday morning?"),
        ("npc", "Friday, if the gulls stay put."),
    ]),
    ("a warning", ["victor", "reef", "resort"], [
        ("user", "Victor Hale told me he will start building the resort on the reef next month."),
        ("npc", "That snake. The reef feeds this town."),
        ("user", "He said the council already signed the permits."),
    ]),
    ("a kindness", ["coffee", "engine", "fixed"], [
        ("user", "I brought you a coffee, black, the way you like it."),
        ("npc", "Well. That's kind."),
        ("user", "And I fixed the coughing engine on the Marisol this morning."),
        ("npc", "You did? I'll be damned."),
    ]),
]


def post(port, path, body, timeout=600):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = json.loads(response.read() or b"null")
    connection.close()
    return response.status, data


def stream_message(port, session, text):
    """Sends a message; returns the final NDJSON line (usage and the context recalled)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.request("POST", f"/api/conversations/{session}/message", body=json.dumps({"content": text}),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    last = None
    for line in response.read().splitlines():
        if line.strip():
            last = json.loads(line)
    connection.close()
    return last


def get(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", path)
    data = json.loads(connection.getresponse().read())
    connection.close()
    return data


def both_paths(port, npc_id, name, facts, lines, question):
    """A real conversation, ended and summarised; then a later question. Which path brought the facts back:
    the evidence memory (the player's own words) or what the analysis inferred (memories, knowledge)?"""
    user = f"player-{name.replace(' ', '-')}"
    _, started = post(port, "/api/conversations/start", {"npc_id": npc_id, "user_id": user})
    session = started["session_id"]
    for role, text in lines:
        if role == "user":
            stream_message(port, session, text)
    post(port, f"/api/conversations/{session}/end", {})
    for _ in range(600):
        jobs = get(port, "/api/summaries/jobs")["jobs"]
        job = next((j for j in jobs if j["session_id"] == session), None)
        if job and job["state"] in ("done", "dead"):
            break
        time.sleep(1)
    _, later = post(port, "/api/conversations/start", {"npc_id": npc_id, "user_id": user})
    done = stream_message(port, later["session_id"], question)
    post(port, f"/api/conversations/{later['session_id']}/end", {})
    recalled = done.get("context", {})
    evidence = " ".join(m["content"] for m in recalled.get("memories", []) if m["memory_id"].startswith("conversation-")).lower()
    inferred = " ".join([m["content"] for m in recalled.get("memories", []) if not m["memory_id"].startswith("conversation-")]
                        + [k["content"] for k in recalled.get("knowledge", [])]).lower()
    return sum(f in evidence for f in facts), sum(f in inferred for f in facts)


def score(analysis, facts):
    text = json.dumps([analysis.get("summary"), analysis.get("key_points"), analysis.get("new_memories"),
                       analysis.get("learned_knowledge")]).lower()
    found = sum(1 for fact in facts if fact in text)
    filled = sum(1 for key in ("new_memories", "relationship_updates", "learned_knowledge", "personality_changes")
                 if analysis.get(key)) + (1 if analysis.get("status_changes") else 0)
    return found, filled


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lifestrands", required=True)
    parser.add_argument("--markdown")
    args = parser.parse_args()
    port = 18460
    results = {}
    # The comparison runs Gemma 3 270M as the summary model beside SmolLM2 (the chat model); the end-to-end
    # run of both paths uses the defaults.
    with Server("lifestrands", [args.lifestrands, "serve", "--port", str(port), "--data-dir", tempfile.mkdtemp()],
                port, "/health", env={"SUMMARY_MODEL": "gemma-3-270m-q4_k_m.gguf"}):
        status, created = post(port, "/api/npcs", TOMAS)
        assert status == 201, created
        for model in ("summary", "chat"):
            rows = []
            for name, facts, lines in SCRIPTS:
                body = {"npc_id": created["npc_id"], "user_id": "player-1", "model": model,
                        "messages": [{"role": role, "content": text} for role, text in lines]}
                started = time.perf_counter()
                status, answer = post(port, "/api/summaries/preview", body)
                seconds = time.perf_counter() - started
                if status != 200:
                    rows.append((name, False, 0, len(facts), 0, seconds, answer.get("error", {}).get("message", "")))
                    continue
                found, filled = score(answer["analysis"], facts)
                rows.append((name, True, found, len(facts), filled, seconds, answer["analysis"]["summary"][:80]))
                print(f"  {model:8} {name:20} facts {found}/{len(facts)} filled {filled}/5 {seconds:5.1f} s", flush=True)
            results[model] = rows
    with Server("lifestrands", [args.lifestrands, "serve", "--port", str(port), "--data-dir", tempfile.mkdtemp()],
                port, "/health"):
        status, created = post(port, "/api/npcs", TOMAS)
        assert status == 201, created
        questions = ["Do you remember what I lost?", "When are we going out, and where?", "What did I tell you about the reef?",
                     "What did I do for you last time?"]
        paths = []
        for (name, facts, lines), question in zip(SCRIPTS, questions):
            evidence, inferred = both_paths(port, created["npc_id"], name, facts, lines, question)
            paths.append((name, len(facts), evidence, inferred))
            print(f"  recalled later: {name:20} evidence {evidence}/{len(facts)} analysis {inferred}/{len(facts)}", flush=True)

    header = "| model | valid | facts found | inference fields filled | s / analysis |"
    lines = [header, "|---|---:|---:|---:|---:|"]
    for model, rows in results.items():
        valid = sum(1 for r in rows if r[1])
        facts = sum(r[2] for r in rows)
        total = sum(r[3] for r in rows)
        filled = sum(r[4] for r in rows)
        seconds = sum(r[5] for r in rows) / len(rows)
        label = "Gemma 3 270M (base model)" if model == "summary" else "SmolLM2 135M Instruct"
        lines.append(f"| {label} | {valid}/{len(rows)} | {facts}/{total} | {filled}/{5 * len(rows)} | {seconds:.1f} |")
    table = "\n".join(lines)
    total = sum(p[1] for p in paths)
    recall = ("| path | stated facts back in a later conversation's context |\n|---|---:|\n"
              f"| evidence: the conversation memory (the player's own words) | {sum(p[2] for p in paths)}/{total} |\n"
              f"| analysis: inferred memories and knowledge | {sum(p[3] for p in paths)}/{total} |")
    print(table)
    print(recall)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write("# Which model analyses conversations\n\n"
                      f"`make bench-summary` on {time.strftime('%Y-%m-%d')}: {len(SCRIPTS)} scripted conversations with "
                      "Tomas Varga, each analysed by both models through `POST /api/summaries/preview` (the same "
                      "prompt and JSON-schema grammar the summary worker uses). \"Facts found\" counts the facts the "
                      "player stated plainly that the analysis mentions anywhere.\n\n" + table + "\n\n"
                      "Both paths, end to end with the defaults: each conversation held for real (the NPC answering), "
                      "ended, summarised by the worker, then a later conversation asks about it; counted: the stated "
                      "facts in what the NPC recalled for that question (the `context` of the reply's last line).\n\n"
                      + recall + "\n\n"
                      "Per conversation:\n\n| model | conversation | facts | filled | s | summary (start) |\n|---|---|---:|---:|---:|---|\n"
                      + "\n".join(f"| {m} | {r[0]} | {r[2]}/{r[3]} | {r[4]}/5 | {r[5]:.1f} | {r[6].replace('|', '/')} |"
                                  for m, rows in results.items() for r in rows) + "\n")


if __name__ == "__main__":
    main()
