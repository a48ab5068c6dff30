"""A webhook receiver on loopback for the tests: verifies every delivery's signature with the reference
standardwebhooks library and records it; it can be told to fail (500), hang past the sender's timeout, or drop
the connection, for a while."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook


class Receiver:
    def __init__(self, secret: str = "") -> None:
        self.secret = secret
        self.behaviour = "ok"  # ok, fail (500), slow (sleeps slow_seconds), drop (closes without answering)
        self.slow_seconds = 3.0
        self.lock = threading.Lock()
        self.accepted: list[dict] = []  # verified deliveries answered 200: event id, headers, body
        self.attempts = 0
        self.bad_signatures = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self, event_type: str | None = None) -> list[dict]:
        with self.lock:
            return [json.loads(item["body"]) | {"_id": item["id"]} for item in self.accepted
                    if event_type is None or json.loads(item["body"])["type"] == event_type]

    def copies_per_event(self) -> Counter:
        with self.lock:
            return Counter(item["id"] for item in self.accepted)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.attempts += 1
                    behaviour = receiver.behaviour
                if behaviour == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if behaviour == "slow":
                    time.sleep(receiver.slow_seconds)
                if behaviour == "fail":
                    self._answer(500, b"receiver down")
                    return
                try:
                    Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except Exception:  # noqa: BLE001 - any verification failure is counted and refused
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(401, b"bad signature")
                    return
                with receiver.lock:
                    receiver.accepted.append({"id": self.headers["webhook-id"], "body": body.decode(),
                                              "headers": dict(self.headers.items())})
                self._answer(200, b"ok")

            def _answer(self, status: int, text: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:  # the sender gave up (timeout) before the answer
                    pass

        return Handler
