"""Subscribes to an NPC over one server's WebSocket while its status is changed through another's API.

Usage: relay_client.py LISTEN_URL CHANGE_URL NPC_ID MOOD. Prints the subscription and the update it got."""
import json
import sys

import requests
import websocket

from deadline import deadline


def main(listen, change, npc_id, mood):
    ws = websocket.create_connection(listen.replace("http://", "ws://") + "/ws", timeout=60)
    ws.send(json.dumps({"type": "subscribe_npc", "npc_id": npc_id}))
    report = {"subscribed": json.loads(ws.recv())}
    patched = requests.patch(f"{change}/api/npcs/{npc_id}", json={"current_status": {"mood": mood}}, timeout=60)
    report["patch_status"] = patched.status_code
    report["update"] = json.loads(ws.recv())
    ws.close()
    print(json.dumps(report))


if __name__ == "__main__":
    # A subscription and one status change: seconds.
    deadline(120, "the relayed status update")
    main(*sys.argv[1:5])
