#!/usr/bin/env python3
"""`make bench-memory`: what NPCs learn from conversations and what they recall, end to end.

Starts `lifestrands serve` (and, with --baseline, an older build, one after the other) on a loopback port
with its own data directory, the default models and every analysis applied
(SUMMARY_AUTO_APPROVAL_THRESHOLD=0). Two players tell two NPCs 40 plain facts across 8 conversations;
each fact is then asked back in words that avoid its key word. Measured from the server's own API,
independently of what it claims:
  - extraction recall: facts whose key word reaches a memory through the evidence path (`conversation`
    and `statement` memories), the analysis path (`observation` memories, knowledge from a
    conversation), and either;
  - grounding: the share of analysis-written memories and knowledge whose content words (60%) occur in
    the transcript they came from;
  - corruption: relationships with non-parties, traits outside the lexicon, status words outside the
    vocabulary, memories written twice, knowledge topics twice;
  - retrieval recall@5 of the paraphrased questions by word, vector and fused search;
  - in a later conversation, the share of a player's own facts recalled into the prompt, and the other
    player's facts recalled there (leaks: sharing is off by default);
  - the share of analyses confident enough for the default threshold (0.8), in full or in part;
  - seconds from a conversation's end to its analysis applied.
Prints one table (and writes it as Markdown with --markdown FILE). Stdlib only; every wait is bounded.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from bench_model import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPCS = {
    "bram": {"name": "Bram Holloway", "background": {"occupation": "innkeeper", "location": "the North Star Inn"},
             "personality": {"traits": ["warm", "shrewd"]},
             "current_status": {"mood": "cheerful", "health": "good", "energy": "medium"},
             "relationships": {"maren": {"kind": "friend"}}},
    "ysolde": {"name": "Ysolde Marr", "background": {"occupation": "herbalist", "location": "the Mill Lane"},
               "personality": {"traits": ["patient", "curious"]},
               "current_status": {"mood": "calm", "health": "good", "energy": "high"},
               "relationships": {"corwen": {"kind": "apprentice"}}},
}
# (player, npc, [(statement, key words, question that avoids them)]): two conversations each.
SCRIPT = [
    ("tess", "bram", [("I was born in Kroniell.", ["kroniell"], "Where does she come from?"),
                      ("My sister is called Wenna.", ["wenna"], "What is the name of her sibling?"),
                      ("I work as a cartographer for the guild.", ["cartographer"], "What does she do for a living?"),
                      ("My horse is a grey mare called Ash.", ["ash", "mare"], "What is her horse like?"),
                      ("I am allergic to cats.", ["cats", "allergic"], "Which animal makes her sneeze?")]),
    ("oren", "bram", [("I fish the Silver Lake every morning.", ["silver lake"], "Where does he go at dawn?"),
                      ("My boat is named the Heron.", ["heron"], "What is his vessel called?"),
                      ("My father built it in Dunmere.", ["dunmere"], "In which town was his boat made?"),
                      ("I play the fiddle at weddings.", ["fiddle"], "What instrument does he perform on?"),
                      ("I never learned to swim.", ["swim"], "What can he not do in water?")]),
    ("tess", "ysolde", [("I drew the map of the Sunken Coast.", ["sunken coast"], "Which shore did she chart?"),
                        ("My favourite dish is barley stew.", ["barley"], "What meal does she love?"),
                        ("I collect old brass compasses.", ["compass"], "What does she gather as a hobby?"),
                        ("I broke my wrist last winter.", ["wrist"], "Which injury did she have?"),
                        ("My brother Aldous is a blacksmith.", ["aldous"], "Who in her family works iron?")]),
    ("oren", "ysolde", [("My wife Ilsa weaves baskets.", ["ilsa"], "Who is his spouse?"),
                        ("I lost my left glove on the north road.", ["glove"], "What did he misplace?"),
                        ("I am saving for a new net.", ["net"], "What is he putting coins aside for?"),
                        ("My knee aches when rain comes.", ["knee"], "What hurts before bad weather?"),
                        ("I grow turnips behind my cottage.", ["turnip"], "What vegetable does he raise?")]),
    ("tess", "bram", [("I am saving for a lute.", ["lute"], "What instrument does she want to buy?"),
                      ("I hate the smell of fish.", ["smell"], "What odour does she dislike?"),
                      ("My mother ran the mill at Kestrel Ford.", ["kestrel"], "Where did her parent work?"),
                      ("I can read the old runes.", ["runes"], "Which ancient writing does she know?"),
                      ("I sleep badly during storms.", ["storms"], "When does she lie awake?")]),
    ("oren", "bram", [("I once caught a pike as long as my arm.", ["pike"], "What big catch is he proud of?"),
                      ("My dog is called Bristle.", ["bristle"], "What is his hound's name?"),
                      ("I owe the miller three silver.", ["miller"], "To whom is he in debt?"),
                      ("I was a soldier in the border war.", ["soldier"], "What did he do in the fighting years?"),
                      ("I drink only cider, never ale.", ["cider"], "What does he order to drink?")]),
    ("tess", "ysolde", [("I have a scar on my left hand.", ["scar"], "What mark does she bear?"),
                        ("I keep bees on the roof.", ["bees"], "What insects does she tend?"),
                        ("I was married once, in Harrowgate.", ["harrowgate"], "Where was her wedding?"),
                        ("My daughter Pell is seven.", ["pell"], "How is her child named?"),
                        ("I am afraid of deep caves.", ["caves"], "Which places frighten her?")]),
    ("oren", "ysolde", [("I mend nets for the harbourmaster.", ["harbourmaster"], "For whom does he repair things?"),
                        ("My grandmother taught me to carve wood.", ["carve"], "Which craft did an elder teach him?"),
                        ("I planted an apple tree for my son.", ["apple"], "What did he plant?"),
                        ("I cannot stand onions.", ["onions"], "Which food does he refuse?"),
                        ("I walk to the shrine every full moon.", ["shrine"], "Where does he go monthly?")]),
]
STOP = set("the and for are but not you your all any can had her was one our out his has have him how its may who did "
           "does get got let she too use that this with they them then than there their what when where which while "
           "will would could should from into about been were also just like some very more most much such only over "
           "here tell know said says say told me my mine we us is it of to in on at by an or if so do be am as no yes".split())
START = time.time()


def say(text):
    print(f"[{time.time() - START:6.1f}s] {text}", flush=True)


def words(text):
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 2 and w not in STOP}


class Client:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"

    def call(self, method, path, body=None, timeout=300):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, method, path, body=None):
        status, data = self.call(method, path, body)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data)

    def say_to(self, session, text):
        """The reply's done line (its context: what the NPC recalled)."""
        status, data = self.call("POST", f"/api/conversations/{session}/message", {"content": text})
        lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
        done = [line for line in lines if line.get("done")]
        if status != 200 or not done:
            raise RuntimeError(f"message: {status} {data[-300:]!r}")
        return done[-1]


def run(label, binary, models, questions, port):
    """Everything measured against one server binary."""
    data = tempfile.mkdtemp(prefix="bench-memory-")
    env = {"PORT": str(port), "HOST": "127.0.0.1", "DATA_DIR": data, "MODELS_DIR": models, "LOG_LEVEL": "warning",
           "SUMMARY_AUTO_APPROVAL_THRESHOLD": "0"}
    with Server(os.path.basename(binary), [binary, "serve"], port, "/health", env=env):
        client = Client(port)
        ids = {key: client.json("POST", "/api/npcs", strand)["npc_id"] for key, strand in NPCS.items()}
        transcripts, settle = {}, []
        for number, (player, npc, facts) in enumerate(SCRIPT, 1):
            session = client.json("POST", "/api/conversations/start", {"npc_id": ids[npc], "user_id": player})["session_id"]
            for text in ["Good evening!"] + [fact[0] for fact in facts] + ["Thanks, that's all for tonight."]:
                client.say_to(session, text)
            client.json("POST", f"/api/conversations/{session}/end")
            ended = time.time()
            state = None
            while time.time() - ended < 600:
                jobs = client.json("GET", "/api/summaries/jobs?limit=500")["jobs"]
                state = next((job["state"] for job in jobs if job["session_id"] == session), None)
                if state in ("done", "dead"):
                    break
                time.sleep(0.25)
            settle.append(time.time() - ended)
            transcripts[session] = " ".join(m["content"] for m in client.json("GET", f"/api/conversations/{session}")["messages"])
            say(f"{label}: conversation {number}/8 "
                f"({player} → {NPCS[npc]['name']}) {state} {settle[-1]:.1f} s after its end")
        strands = {key: client.json("GET", f"/api/npcs/{npc_id}")["life_strand"] for key, npc_id in ids.items()}
        analyses = [a for npc_id in ids.values()
                    for a in client.json("GET", f"/api/summaries?npc_id={npc_id}&limit=100")["analyses"]]

        # Extraction, per path.
        def found(fact, texts):
            return any(any(k in text.lower() for k in fact[1]) for text in texts)
        evidence_hits = analysis_hits = either = 0
        misses = {"evidence": [], "analysis": []}
        for player, npc, facts in SCRIPT:
            strand = strands[npc]
            evidence = [m["content"] for m in strand.get("memories", []) if m.get("kind") in ("conversation", "statement")]
            inferred = [m["content"] for m in strand.get("memories", []) if m.get("kind") == "observation"] + [
                f"{k['topic']} {k['content']}" for k in strand.get("knowledge", []) if k.get("source") == "conversation"]
            for fact in facts:
                e, a = found(fact, evidence), found(fact, inferred)
                evidence_hits += e
                analysis_hits += a
                either += e or a
                if not e:
                    misses["evidence"].append(fact[0])
                if not a:
                    misses["analysis"].append(fact[0])

        # Grounding and corruption.
        vocabulary = json.load(open(os.path.join(ROOT, "Sources/LifeStrands/Resources/analysis-vocabulary.json")))
        grounded = written = 0
        corruption = {"relationships with non-parties": 0, "traits outside the lexicon": 0,
                      "status words outside the vocabulary": 0, "memories written twice": 0, "knowledge topics twice": 0}
        for key, strand in strands.items():
            seed = NPCS[key]
            for item in [m for m in strand.get("memories", []) if m.get("kind") == "observation"] + [
                    k for k in strand.get("knowledge", []) if k.get("source") == "conversation"]:
                said = words(transcripts.get(item.get("conversation_id", ""), ""))
                text = words(item["content"] + " " + item.get("topic", "")) - {"tess", "oren", "player"}
                written += 1
                grounded += bool(text) and len(text & said) / len(text) >= 0.6
            parties = {"tess", "oren"} | set(seed.get("relationships", {}))
            corruption["relationships with non-parties"] += sum(k not in parties for k in strand.get("relationships", {}))
            lexicon = set(vocabulary.get("traits", [])) | {t.lower() for t in seed["personality"]["traits"]}
            corruption["traits outside the lexicon"] += sum(t.lower() not in lexicon for t in strand["personality"]["traits"])
            for field, words_key in (("mood", "moods"), ("energy", "energies"), ("health", "healths")):
                value = strand.get("current_status", {}).get(field)
                allowed = set(vocabulary.get(words_key, [])) | {seed["current_status"].get(field)}
                corruption["status words outside the vocabulary"] += value is not None and value.lower() not in allowed
            contents = [" ".join(sorted(words(m["content"]))) for m in strand.get("memories", [])]
            corruption["memories written twice"] += len(contents) - len(set(contents))
            topics = [k["topic"].lower() for k in strand.get("knowledge", [])]
            corruption["knowledge topics twice"] += len(topics) - len(set(topics))

        # Retrieval recall@5 of the paraphrases, each way.
        recall = {}
        for mode in ("lexical", "vector", "hybrid"):
            hits, supported = 0, True
            for player, npc, facts in SCRIPT:
                for fact in facts:
                    query = urllib.parse.quote(fact[2])
                    result = client.json("GET", f"/api/npcs/{ids[npc]}/memories/search?q={query}&limit=5&mode={mode}")
                    if result.get("mode") != mode:
                        supported = mode == "vector"
                    hits += found(fact, [r["content"] for r in result["results"]])
            recall[mode] = hits / 40 if supported else None

        # In a later conversation: own facts recalled into the prompt, and the other player's (leaks).
        own = own_asked = leaks = other_asked = 0
        for npc in ids:
            for player in ("tess", "oren"):
                session = client.json("POST", "/api/conversations/start", {"npc_id": ids[npc], "user_id": player})["session_id"]
                for owner, where, facts in SCRIPT:
                    if where != npc:
                        continue
                    for fact in facts[:questions]:
                        context = client.say_to(session, fact[2]).get("context", {})
                        texts = [m["content"] for m in context.get("memories", [])] + [
                            f"{k['topic']} {k['content']}" for k in context.get("knowledge", [])]
                        if owner == player:
                            own_asked += 1
                            own += found(fact, texts)
                        else:
                            other_asked += 1
                            leaks += found(fact, texts)
                client.json("POST", f"/api/conversations/{session}/end")
            say(f"{label}: asked {NPCS[npc]['name']}'s facts back")

        def earns(analysis):
            """Confident enough for the default threshold: in full, or (by the notes' figures) in part."""
            if analysis["confidence"] >= 0.8:
                return True, True
            a = analysis["analysis"]
            count = len(a.get("new_memories", [])) + len(a.get("relationship_updates", [])) + len(
                a.get("learned_knowledge", [])) + len(a.get("personality_changes", [])) + bool(a.get("status_changes"))
            low = sum(1 for note in analysis.get("confidence_notes", []) if (m := re.search(r"\((0\.\d+|0)\)$", note))
                      and float(m.group(1)) < 0.8)
            return False, count > low and any(re.search(r"\(\d\.\d+\)$", n) for n in analysis.get("confidence_notes", []))
        full = sum(earns(a)[0] for a in analyses)
        part = sum(earns(a)[1] for a in analyses)
        return {
            "extraction recall, evidence path": evidence_hits / 40, "extraction recall, analysis path": analysis_hits / 40,
            "extraction recall, both paths": either / 40,
            "grounding of applied memories and knowledge": grounded / written if written else None,
            "analysis memories and knowledge written": written,
            **corruption,
            "recall@5, lexical": recall["lexical"], "recall@5, vector": recall["vector"], "recall@5, fused": recall["hybrid"],
            "own facts recalled into the prompt": own / own_asked if own_asked else None,
            "cross-player leaks (sharing off)": leaks, "questions about the other player's facts": other_asked,
            "analyses applying in full at 0.8": full / len(analyses) if analyses else None,
            "analyses applying at least in part at 0.8": part / len(analyses) if analyses else None,
            "end → applied, p50 (s)": statistics.median(settle), "end → applied, max (s)": max(settle),
            "misses": misses,
        }


TARGETS = {
    "extraction recall, analysis path": "≥ 70%", "extraction recall, both paths": "≥ 95%",
    "grounding of applied memories and knowledge": "≥ 95%", "relationships with non-parties": "0",
    "traits outside the lexicon": "0", "status words outside the vocabulary": "0", "recall@5, fused": "≥ 95%",
    "cross-player leaks (sharing off)": "0", "analyses applying at least in part at 0.8": "≥ 50%",
}


def shown(metric, value):
    if value is None:
        return "n/a"
    if isinstance(value, float) and ("recall" in metric or "grounding" in metric or "analyses" in metric):
        return f"{value * 100:.0f}%"
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifestrands", required=True)
    parser.add_argument("--baseline", help="an older build, measured first with the same script")
    parser.add_argument("--models", default=os.path.join(
        os.environ.get("LIFESTRANDS_CACHE", os.path.expanduser("~/.cache/lifestrands")), "models"))
    parser.add_argument("--questions", type=int, default=3, help="facts per conversation asked back in a later conversation, by their owner and by the other player (≤ 5)")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    columns = []
    port = 18000 + os.getpid() % 1000
    if args.baseline:
        columns.append(("before", run("before", os.path.abspath(args.baseline), args.models, args.questions, port + 1)))
    columns.append(("after", run("after", os.path.abspath(args.lifestrands), args.models, args.questions, port)))
    metrics = [m for m in columns[-1][1] if m != "misses"]
    header = ["metric"] + [name for name, _ in columns] + ["target"]
    rows = [[m] + [shown(m, figures.get(m)) for _, figures in columns] + [TARGETS.get(m, "")] for m in metrics]
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)))
    for name, figures in columns:
        for path, facts in figures["misses"].items():
            print(f"{name}, missed by the {path} path ({len(facts)}): " + "; ".join(facts))
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write("# Memory benchmark\n\n`make bench-memory` on " + datetime.date.today().isoformat()
                      + ": 40 facts told by 2 players to 2 NPCs in 8 conversations, SmolLM2-135M chatting and "
                      "analysing, all-MiniLM-L6-v2 embedding, every analysis applied. The script is "
                      "`scripts/bench_memory.py`; \"before\" is the build before grounded analysis "
                      "(`scripts/bench-memory-baseline.sh`).\n\n")
            out.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
            for row in rows:
                out.write("| " + " | ".join(str(cell) for cell in row) + " |\n")
            for name, figures in columns:
                for path, facts in figures["misses"].items():
                    out.write(f"\n{name}, missed by the {path} path ({len(facts)}): " + "; ".join(facts) + "\n")


if __name__ == "__main__":
    main()
