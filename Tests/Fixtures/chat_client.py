"""A test's conversation client: streams a reply and reports each line with its arrival time, or walks
away mid-reply. Standard library only, so the timing is the socket's, not a library's buffering."""
import http.client
import json
import socket
import sys
import time
from urllib.parse import urlparse

from deadline import deadline


def open_stream(base, session, text):
    url = urlparse(base)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    connection.request("POST", f"/api/conversations/{session}/message", body=json.dumps({"content": text}),
                       headers={"Content-Type": "application/json"})
    return connection, connection.getresponse()


def stream(base, session, text):
    """Prints {"status", "lines": [{"at": seconds since the request, "line": {...}}]}."""
    started = time.perf_counter()
    connection, response = open_stream(base, session, text)
    lines = []
    if response.status == 200:
        while True:
            line = response.readline()
            if not line:
                break
            if line.strip():
                lines.append({"at": time.perf_counter() - started, "line": json.loads(line)})
    else:
        lines.append({"at": time.perf_counter() - started, "line": json.loads(response.read())})
    connection.close()
    print(json.dumps({"status": response.status, "lines": lines}))


def disconnect(base, session, text, tokens):
    """Reads `tokens` token lines, then drops the connection; prints the text it saw."""
    connection, response = open_stream(base, session, text)
    assert response.status == 200, response.status
    seen = []
    while len(seen) < tokens:
        line = response.readline()
        if not line:
            break
        event = json.loads(line)
        if "token" in event:
            seen.append(event["token"])
    connection.sock.shutdown(socket.SHUT_RDWR)
    connection.close()
    print(json.dumps({"tokens": seen}))


if __name__ == "__main__":
    # One reply from a small model: a minute at worst on a busy machine (each read allows 120 s).
    deadline(300, f"chat_client {sys.argv[1]}")
    command, base, session, text = sys.argv[1:5]
    if command == "stream":
        stream(base, session, text)
    elif command == "disconnect":
        disconnect(base, session, text, int(sys.argv[5]))
    else:
        sys.exit(f"unknown command {command}")
