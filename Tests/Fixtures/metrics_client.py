"""Scrapes /metrics around one conversation held over /ws: before it, after its first token, once the
reply is complete (socket and session still open), and after both are closed. Prints the four scrapes,
parsed into {"name{labels}": value}, as JSON."""
import json
import sys

import requests
import websocket

from deadline import deadline


def scrape(base, headers):
    response = requests.get(f"{base}/metrics", headers=headers, timeout=60)
    response.raise_for_status()
    samples = {}
    for line in response.text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return {"content_type": response.headers.get("Content-Type"), "samples": samples}


def main(base, npc_id, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    report = {"before": scrape(base, headers)}
    query = f"?access_token={token}" if token else ""
    ws = websocket.create_connection(base.replace("http://", "ws://") + "/ws" + query, timeout=120)

    def next_frame():
        return json.loads(ws.recv())

    ws.send(json.dumps({"type": "start_conversation", "npc_id": npc_id, "user_id": "tess"}))
    session = next_frame()["session_id"]
    ws.send(json.dumps({"type": "message", "session_id": session, "content": "Hello! How is the sea today?"}))
    frame = next_frame()
    while frame["type"] != "token":
        frame = next_frame()
    report["streaming"] = scrape(base, headers)
    while frame["type"] != "message_complete":
        frame = next_frame()
    report["complete"] = scrape(base, headers)
    report["usage"] = frame["usage"]
    ws.send(json.dumps({"type": "end_conversation", "session_id": session}))
    while next_frame()["type"] != "conversation_ended":
        pass
    ws.close()
    # The server counts the socket closed once it has seen the close: wait for that, boundedly.
    for _ in range(100):
        report["closed"] = scrape(base, headers)
        if report["closed"]["samples"].get("lifestrands_websocket_connections") == 0:
            break
    print(json.dumps(report))


if __name__ == "__main__":
    # One conversation and a few scrapes, within a 5-minute suite.
    deadline(240, "the scrapes around a conversation")
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
