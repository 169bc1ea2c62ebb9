"""A test's WebSocket client for actions: one message that must act, reported as JSON.

Starts a session with the NPC for `player`, sends one message with `action_choice`, and collects the
frames of the reply (tokens, actions, the completion) in order."""
import json
import sys

import websocket

from deadline import deadline


def main(base, npc_id, player, content, choice):
    ws = websocket.create_connection(base.replace("http://", "ws://") + "/ws", timeout=120)
    ws.send(json.dumps({"type": "start_conversation", "npc_id": npc_id, "user_id": player}))
    started = json.loads(ws.recv())
    session = started["session_id"]
    ws.send(json.dumps({"type": "message", "session_id": session, "content": content, "action_choice": choice}))
    frames = []
    while True:
        frame = json.loads(ws.recv())
        frames.append(frame)
        if frame["type"] not in ("token", "action"):
            break
    ws.close()
    print(json.dumps({"session_id": session, "frames": frames}))


if __name__ == "__main__":
    deadline(180, "the action session")
    main(*sys.argv[1:])
