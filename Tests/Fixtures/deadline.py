"""A deadline for a test's Python client, so that it ends even when the server it talks to stops answering.

The Swift tests run these fixtures against a live server (and a PostgreSQL behind it) that a failure can
kill or wedge; a client blocked on a socket for ever would then hold the test until its time limit, and
say nothing about why. `deadline(seconds, what)`, called first thing in a script:

- sets `socket.setdefaulttimeout`, which bounds each operation on a socket made without a timeout of its
  own: http.client, urllib and selenium's HTTP to chromedriver (read when the driver is made). requests
  (urllib3) and websocket-client do NOT use it: give each of their calls a `timeout=`.
- arms SIGALRM for the whole run, with a thread as a backstop should the signal reach another thread
  while the main one is blocked. Either one SIGKILLs every process this one started (chromedriver and its
  Chromium, found through their parent ids in /proc on Linux; elsewhere they are left), prints
  "<script>: <what> did not finish within N s" to stderr and ends with status 3 through os._exit, which no
  `except` or `finally` in the blocked code can swallow.
"""
import math
import os
import signal
import socket
import sys
import threading

EXIT_STATUS = 3


def _descendants():
    """Every live process below this one, found through /proc: read all before killing any, as a killed
    parent's children move to another."""
    children = {}
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []
    for entry in entries:
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, pending = [], [os.getpid()]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def deadline(seconds, what, per_operation=None):
    """Ends this process with status 3 if it still runs `seconds` from now; bounds each socket operation
    that has no timeout of its own to `per_operation` seconds (min(seconds, 60) unless given)."""
    socket.setdefaulttimeout(per_operation or min(seconds, 60))
    message = f"{os.path.basename(sys.argv[0])}: {what} did not finish within {seconds:g} s\n".encode()
    expired = threading.Lock()

    def expire(*_):
        if not expired.acquire(blocking=False):
            # The other trigger is ending the process: the signal leaves it to the thread; the thread, come
            # 5 s after the signal, finds that stuck and ends the process itself.
            if threading.current_thread() is not threading.main_thread():
                os._exit(EXIT_STATUS)
            return
        for pid in _descendants():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for stream in (sys.stdout, sys.stderr):
            try:
                os.set_blocking(stream.fileno(), False)  # a full pipe must not hold the exit
                stream.flush()
            except Exception:
                pass
        try:
            os.write(2, message)
        except OSError:
            pass
        os._exit(EXIT_STATUS)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, math.ceil(seconds)))
    backstop = threading.Timer(seconds + 5, expire)
    backstop.daemon = True
    backstop.start()
