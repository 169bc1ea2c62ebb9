"""A local alert webhook, or OTLP/JSON collector: answers every POST with 200 and an empty JSON object
(what an OTLP export expects), and appends its JSON body as one line to a file.

Usage: webhook_listener.py FILE SECONDS. Prints the port it listens on (127.0.0.1), then serves until
SECONDS have passed, so a test that forgets it still ends it."""
import http.server
import json
import sys
import threading

from deadline import deadline


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[1], "a", encoding="utf-8") as out:
            out.write(json.dumps(json.loads(body)) + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


# It shuts itself down after SECONDS; should that hang, the deadline ends it 30 s later. Each request's
# socket gets the per-operation timeout, so a client that stops mid-body cannot hold a handler.
deadline(float(sys.argv[2]) + 30, "serving webhooks")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
threading.Timer(float(sys.argv[2]), server.shutdown).start()
server.serve_forever()
