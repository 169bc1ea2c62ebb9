"""Paths around the rules rather than through them, against a live server that requires tokens, reported as
JSON for SidewaysLiveTests. The server runs with RATE_LIMIT_CHAT=3/h (so no token comes back while the test
runs), WS_MAX_CONNECTIONS_PER_PLAYER=2, RATE_LIMIT_AUTH_FAILURES=3/h and TRUSTED_PROXIES naming loopback.

Arguments: the server's URL, an NPC id, and a JSON object of tokens (players tess, bram, ada and cid, an admin
ops and a service game)."""
import json
import sys

import requests
import websocket

from deadline import deadline


def main(base, npc_id, tokens):
    report = {}
    auth = lambda who: {"Authorization": f"Bearer {tokens[who]}"}
    ws_url = lambda who: base.replace("http://", "ws://") + f"/ws?access_token={tokens[who]}"

    def start(who):
        answer = requests.post(f"{base}/api/conversations/start", json={"npc_id": npc_id}, headers=auth(who), timeout=30)
        return answer.json()["session_id"]

    def http_message(who, session):
        answer = requests.post(f"{base}/api/conversations/{session}/message", json={"content": "Good morning!"},
                               headers=auth(who), timeout=120)
        return answer.status_code

    def ws_message(ws, session):
        """Sends a message frame; returns what ended it: message_complete, or an error's code."""
        ws.send(json.dumps({"type": "message", "session_id": session, "content": "And the harbour?"}))
        while True:
            frame = json.loads(ws.recv())
            if frame["type"] == "message_complete":
                return "message_complete"
            if frame["type"] == "error":
                return {"code": frame.get("code"), "session_id": frame.get("session_id")}

    # One chat limit (3 an hour) for tess, whether she speaks over HTTP or a WebSocket, old or new.
    session = start("tess")
    chat = {"http_1": http_message("tess", session)}
    first = websocket.create_connection(ws_url("tess"), timeout=120)
    chat["ws_2"] = ws_message(first, session)
    chat["ws_3"] = ws_message(first, session)
    chat["ws_4"] = ws_message(first, session)
    first.close()
    second = websocket.create_connection(ws_url("tess"), timeout=120)
    chat["new_socket_5"] = ws_message(second, session)
    second.close()
    chat["http_6"] = http_message("tess", session)
    # Bram, at the same address, has his own bucket: tess spent hers, not his.
    chat["bram_same_address"] = http_message("bram", start("bram"))
    report["chat"] = chat

    # The prompt cache as an oracle: ada tells the NPC a secret; bram, guessing it, sends the very same words
    # in a conversation of his own, and cid sends other words. What each gets from the cache is the NPC's
    # persona alone, so bram's count is cid's, whatever ada said.
    def cached(who, text):
        answer = requests.post(f"{base}/api/conversations/{start(who)}/message", json={"content": text},
                               headers=auth(who), timeout=120)
        return json.loads(answer.text.splitlines()[-1])["usage"]["cached_tokens"]
    secret = "The key to the granary is under the third loose stone of the well, and only I know it."
    report["cache"] = {"ada": cached("ada", secret), "bram_guessing": cached("bram", secret),
                       "cid_other_words": cached("cid", "What is the weather like at the harbour this morning, friend?")}

    # The same through the model API, without a conversation id: the game server's prompt, word for word
    # the admin's, reuses nothing of the admin's cache; the admin's own repeat does.
    def api_cached(who):
        answer = requests.post(f"{base}/api/models/generate", headers=auth(who), timeout=120, json={
            "prompt": "The lighthouse keeper wrote in his log that the storm had taken the north jetty and two boats.",
            "max_tokens": 2, "temperature": 0})
        return json.loads(answer.text.splitlines()[-1])["cached_tokens"]
    report["api_cache"] = {"ops": api_cached("ops"), "game_same_prompt": api_cached("game"), "ops_again": api_cached("ops")}

    # Two sockets a player: a third is told why and closed; once one closes, a new one is served.
    held = [websocket.create_connection(ws_url("bram"), timeout=30) for _ in range(2)]
    for ws in held:
        ws.send(json.dumps({"type": "unsubscribe_npc"}))
        assert json.loads(ws.recv())["type"] == "unsubscribed"
    third = websocket.create_connection(ws_url("bram"), timeout=30)
    sockets = {"third": json.loads(third.recv()).get("code")}
    try:
        third.send(json.dumps({"type": "unsubscribe_npc"}))
        # websocket-client's recv gives "" for the server's close frame, and raises once it has gone.
        sockets["third_closed"] = third.recv() == ""
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        sockets["third_closed"] = True
    held.pop().close()
    fourth = None
    for _ in range(50):
        # The server frees the slot when it sees the close, a moment after the client sends it.
        fourth = websocket.create_connection(ws_url("bram"), timeout=30)
        fourth.send(json.dumps({"type": "unsubscribe_npc"}))
        frame = json.loads(fourth.recv())
        if frame["type"] == "unsubscribed":
            break
        fourth.close()
        fourth = None
    sockets["after_one_closed"] = fourth is not None
    for ws in held + ([fourth] if fourth else []):
        ws.close()
    report["sockets"] = sockets

    # Token guessing from one client (behind the trusted proxy, named by X-Forwarded-For): three failures,
    # then 429 for any token from it, a right one included; another client behind the proxy is unaffected.
    guesser = {"X-Forwarded-For": "198.51.100.7"}
    guesses = [requests.get(f"{base}/api/npcs", headers={**guesser, "Authorization": "Bearer not.a.jwt"},
                            timeout=30).status_code for _ in range(4)]
    report["auth"] = {
        "guesses": guesses,
        "right_token_same_client": requests.get(f"{base}/api/npcs", headers={**guesser, **auth("tess")}, timeout=30).status_code,
        "other_client": requests.get(f"{base}/api/npcs", headers={"X-Forwarded-For": "198.51.100.8", **auth("tess")},
                                     timeout=30).status_code,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    # Five replies and a dozen sockets: well under a minute, unless the server stops answering.
    deadline(300, "the sideways probes")
    main(sys.argv[1], sys.argv[2], json.loads(sys.argv[3]))
