"""A test's WebSocket client: one scripted session against /ws, reported as JSON.

Bad frames first (each must be answered with an error frame, the connection staying open), then a
ping, a subscription, a conversation streamed token by token, a status change made over HTTP by
someone else, and the end of the conversation."""
import json
import sys

import requests
import websocket

from deadline import deadline


def main(base, npc_id):
    ws = websocket.create_connection(base.replace("http://", "ws://") + "/ws", timeout=120)
    report = {"errors": []}

    def next_frame():
        return json.loads(ws.recv())

    bad = [
        ("text", "this is not json"),
        ("binary", b"\x00\x01"),
        ("text", json.dumps({"npc_id": npc_id})),
        ("text", json.dumps({"type": "dance"})),
        ("text", json.dumps({"type": "subscribe_npc", "npc_id": "not-a-uuid"})),
        ("text", json.dumps({"type": "message", "session_id": "00000000-0000-4000-8000-000000000000", "content": "hi"})),
        ("text", json.dumps({"type": "message", "pad": "x" * 100_000})),
    ]
    for kind, payload in bad:
        ws.send_binary(payload) if kind == "binary" else ws.send(payload)
        frame = next_frame()
        report["errors"].append({"type": frame["type"], "code": frame.get("code"), "message": frame.get("message")})

    ws.ping("still there?")
    opcode, data = ws.recv_data(control_frame=True)
    report["pong"] = opcode == websocket.ABNF.OPCODE_PONG and data == b"still there?"

    ws.send(json.dumps({"type": "subscribe_npc", "npc_id": npc_id}))
    report["subscribed"] = next_frame()

    ws.send(json.dumps({"type": "start_conversation", "npc_id": npc_id, "user_id": "ws-player"}))
    started = next_frame()
    report["started"] = started
    session = started["session_id"]

    ws.send(json.dumps({"type": "message", "session_id": session, "content": "What is the weather like at sea?"}))
    tokens = []
    while True:
        frame = next_frame()
        if frame["type"] == "token":
            tokens.append(frame["content"])
        else:
            report["complete"] = frame
            break
    report["tokens"] = tokens

    # Someone else changes the NPC's status through the HTTP API.
    patched = requests.patch(f"{base}/api/npcs/{npc_id}", json={"current_status": {"mood": "elated"}}, timeout=30)
    report["patch_status"] = patched.status_code
    report["status_update"] = next_frame()

    ws.send(json.dumps({"type": "end_conversation", "session_id": session}))
    report["ended"] = next_frame()
    ws.close()
    print(json.dumps(report))


if __name__ == "__main__":
    # One conversation streamed over the socket (each frame allows 120 s).
    deadline(300, "the WebSocket session")
    main(sys.argv[1], sys.argv[2])
