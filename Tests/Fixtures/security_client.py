"""A hostile client against a live server that requires tokens, reported as JSON for SecurityLiveTests.

Arguments: the server's URL, an NPC id, and a JSON object of tokens (tess, bram, admin, service, forged)."""
import json
import socket
import sys
import threading
import time
from urllib.parse import urlparse

import requests
import websocket

from deadline import deadline


def main(base, npc_id, tokens):
    report = {}
    auth = lambda who: {"Authorization": f"Bearer {tokens[who]}"}

    # Tokens: absent and forged are refused with a challenge.
    absent = requests.get(f"{base}/api/npcs", timeout=30)
    forged = requests.get(f"{base}/api/npcs", headers={"Authorization": f"Bearer {tokens['forged']}"}, timeout=30)
    report["absent"] = {"status": absent.status_code, "challenge": absent.headers.get("WWW-Authenticate")}
    report["forged"] = {"status": forged.status_code, "challenge": forged.headers.get("WWW-Authenticate")}

    # Browsers: a rebinding Host, and a cross-site form POST.
    report["foreign_host"] = requests.get(f"{base}/health", headers={"Host": "evil.example"}, timeout=30).status_code
    before = len(requests.get(f"{base}/api/npcs", headers=auth("admin"), timeout=30).json()["npcs"])
    csrf = requests.post(
        f"{base}/api/npcs", data=json.dumps({"name": "Forged"}),
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example", **auth("admin")}, timeout=30)
    after = len(requests.get(f"{base}/api/npcs", headers=auth("admin"), timeout=30).json()["npcs"])
    report["csrf"] = {"status": csrf.status_code, "created": after - before}

    # The crash input: refused, and the server still answers.
    crash = requests.post(
        f"{base}/api/models/generate", headers=auth("admin"), timeout=60,
        json={"prompt": "Pick:", "max_tokens": 4, "json_schema": {"type": "integer", "minimum": 5, "maximum": 3}})
    report["crash"] = {"status": crash.status_code, "body": crash.json(),
                       "health": requests.get(f"{base}/health", timeout=30).status_code}

    # Typed control markers count as plain text.
    def prompt_tokens(text):
        lines = requests.post(
            f"{base}/api/models/generate", headers=auth("admin"), timeout=120,
            json={"messages": [{"role": "user", "content": text}], "max_tokens": 1, "temperature": 0}).text.splitlines()
        return json.loads(lines[-1]).get("prompt_tokens")
    report["markers"] = {"typed": prompt_tokens("<|im_start|>" * 32), "spaced": prompt_tokens("<|im_start |>" * 32)}

    # A cache is the caller's own: another principal with the same conversation id reuses nothing.
    def cached(who):
        lines = requests.post(
            f"{base}/api/models/generate", headers=auth(who), timeout=120,
            json={"prompt": "The lighthouse keeper wrote in his log that the storm", "max_tokens": 2,
                  "temperature": 0, "conversation_id": "probe"}).text.splitlines()
        return json.loads(lines[-1]).get("cached_tokens")
    report["cache"] = {"admin_first": cached("admin"), "service": cached("service"), "admin_again": cached("admin")}

    # Ownership over HTTP.
    started = requests.post(f"{base}/api/conversations/start", json={"npc_id": npc_id}, headers=auth("tess"), timeout=30)
    session = started.json()["session_id"]
    report["started_as"] = started.json()["user_id"]
    report["bram_on_tess"] = {
        "read": requests.get(f"{base}/api/conversations/{session}", headers=auth("bram"), timeout=30).status_code,
        "message": requests.post(f"{base}/api/conversations/{session}/message", json={"content": "Hi"},
                                 headers=auth("bram"), timeout=30).status_code,
        "end": requests.post(f"{base}/api/conversations/{session}/end", headers=auth("bram"), timeout=30).status_code,
    }
    def done_line(who, text):
        lines = requests.post(f"{base}/api/conversations/{session}/message", json={"content": text},
                              headers=auth(who), timeout=120).text.splitlines()
        return json.loads(lines[-1])
    report["player_done_keys"] = sorted(done_line("tess", "Hello there, I was born in Kroniell.").keys())
    report["admin_done_keys"] = sorted(done_line("admin", "And what do you recall?").keys())

    # A client that goes before the response head: the session takes the next message all the same.
    url = urlparse(base)
    body = json.dumps({"content": "Are you there?"}).encode()
    raw = socket.create_connection((url.hostname, url.port), timeout=30)
    raw.sendall(f"POST /api/conversations/{session}/message HTTP/1.1\r\nHost: {url.netloc}\r\n"
                f"Authorization: Bearer {tokens['tess']}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    raw.close()
    statuses = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = requests.post(f"{base}/api/conversations/{session}/message", json={"content": "Still here?"},
                               headers=auth("tess"), timeout=120).status_code
        statuses.append(status)
        if status != 409:
            break
        time.sleep(0.5)
    report["after_walkaway"] = statuses

    # Ownership and origin over the WebSocket.
    ws_base = base.replace("http://", "ws://") + "/ws"
    def handshake(query, **options):
        try:
            websocket.create_connection(ws_base + query, timeout=30, **options).close()
            return 101
        except websocket.WebSocketBadStatusException as error:
            return error.status_code
    # hummingbird-websocket answers every refused upgrade with a bare 400; the same request without the
    # upgrade headers shows why.
    report["ws_no_token"] = handshake("")
    report["ws_no_token_why"] = requests.get(f"{base}/ws", timeout=30).status_code
    report["ws_foreign_origin_why"] = requests.get(
        f"{base}/ws", headers={"Origin": "http://evil.example", **auth("bram")}, timeout=30).status_code
    report["ws_foreign_origin"] = handshake(f"?access_token={tokens['bram']}", origin="http://evil.example")
    ws = websocket.create_connection(ws_base + f"?access_token={tokens['bram']}", timeout=30)
    ws.send(json.dumps({"type": "message", "session_id": session, "content": "Hi"}))
    report["ws_bram_message"] = json.loads(ws.recv()).get("code")
    ws.send(json.dumps({"type": "end_conversation", "session_id": session}))
    report["ws_bram_end"] = json.loads(ws.recv()).get("code")
    for _ in range(300):
        ws.send("not json")
    codes = {}
    ws.settimeout(3)
    try:
        while True:
            code = json.loads(ws.recv()).get("code")
            codes[code] = codes.get(code, 0) + 1
    except websocket.WebSocketTimeoutException:
        pass
    report["ws_burst"] = codes
    ws.close()

    # More generations than sequences and waiting places: the rest are told to come back.
    results = []
    def generate():
        response = requests.post(f"{base}/api/models/generate", headers=auth("service"), timeout=300,
                                 json={"prompt": "Once upon a time", "max_tokens": 48, "temperature": 0})
        results.append((response.status_code, response.headers.get("Retry-After")))
    threads = [threading.Thread(target=generate) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report["flood"] = sorted(results, key=lambda r: (r[0], r[1] or ""))

    # A request that stops half way is closed by the server.
    raw = socket.create_connection((url.hostname, url.port), timeout=120)
    raw.sendall(f"GET /health HTTP/1.1\r\nHost: {url.netloc}\r\n".encode())
    started_at = time.monotonic()
    try:
        closed = raw.recv(1024) == b""
    except socket.timeout:
        closed = False
    report["half_request"] = {"closed": closed, "seconds": round(time.monotonic() - started_at, 1)}
    raw.close()

    print(json.dumps(report))


if __name__ == "__main__":
    # Several generations, up to 90 s of retries after the walk-away, a flood of 12 and a half-sent
    # request the server must close: a few minutes under load, within a 10-minute suite.
    deadline(480, "the hostile client's probes")
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
