"""An upstream service that dies at a chosen point of each exchange, for the gateway's tests.

Each connection is served by a forked child that kills itself (SIGKILL, as a crash or an OOM kill would)
at the point its request path names, so the gateway sees exactly what a dying service leaves behind:
  .../before-head   the request read, no answer at all
  .../mid-body      a few bytes of the request body read, then gone
  .../mid-document  a JSON head promising 1000 bytes, 20 of them sent
  .../mid-stream    an NDJSON head and two token lines, then gone
anything else       200 {"ok": true}

usage: broken_upstream.py PORTFILE   binds a free loopback port, writes it to PORTFILE, serves 600 s at most
"""
import os
import signal
import socket
import sys

from deadline import deadline


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            die()
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def serve(conn):
    head, rest = read_head(conn)
    path = head.split(" ", 2)[1]
    if path.endswith("/before-head"):
        die()
    if path.endswith("/mid-body"):
        if len(rest) < 5:
            conn.recv(5)
        die()
    if path.endswith("/mid-document"):
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n")
        conn.sendall(b'{"items": [1, 2, 3, ')
        die()
    if path.endswith("/mid-stream"):
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n")
        for token in (b'{"token": "Ahoy"}\n', b'{"token": " there"}\n'):
            conn.sendall(b"%x\r\n%s\r\n" % (len(token), token))
        die()
    body = b'{"ok": true}'
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
    conn.close()


def main():
    deadline(600, "the broken upstream")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reaped by the kernel
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    with open(sys.argv[1] + ".partial", "w") as out:
        out.write(str(server.getsockname()[1]))
    os.rename(sys.argv[1] + ".partial", sys.argv[1])
    while True:
        conn, _ = server.accept()
        if os.fork() == 0:
            server.close()
            signal.alarm(30)
            serve(conn)
            os._exit(0)
        conn.close()


if __name__ == "__main__":
    main()
