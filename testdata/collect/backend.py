"""A small backend that shares its users' data with an advertiser, for
tracewire collect (the server-side tracking case).

For a signed-up user it posts the SHA-256 of the user's e-mail address, in
the shape of Meta's Conversions API, over HTTPS, and writes the user to a
file share. The "advertiser" is a local HTTPS endpoint this script starts
itself (127.0.0.1, a test certificate beside this file, Host
graph.facebook.com), so nothing leaves the machine.

    tracewire collect -o run -- python3 backend.py
    tracewire detect run --indicator email=alice@example.com

Environment: BACKEND_EMAIL (default alice@example.com), BACKEND_SHARE (the
file share folder, default ./share). Standard library only.
"""

import hashlib
import http.client
import http.server
import json
import os
import ssl
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CERT = os.path.join(HERE, "sink-test-cert.pem")
KEY = os.path.join(HERE, "sink-test-key.pem")
PIXEL = "918273645546372"


class Sink(http.server.BaseHTTPRequestHandler):
    """The advertiser's endpoint: reads the events, answers like Meta."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        n = len(json.loads(body).get("data", []))
        out = json.dumps({"events_received": n, "fbtrace_id": "AbCdEfGh"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def start_sink():
    srv = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(CERT, KEY)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def sign_up(email):
    """What the backend does for a new user."""
    return {"email": email, "signed_up": int(time.time())}


def conversions_event(user):
    hashed = hashlib.sha256(user["email"].strip().lower().encode()).hexdigest()
    return {
        "data": [
            {
                "event_name": "CompleteRegistration",
                "event_time": user["signed_up"],
                "action_source": "website",
                "user_data": {"em": [hashed]},
            }
        ]
    }


def post_event(port, event):
    # create_default_context logs TLS keys to $SSLKEYLOGFILE when set.
    ctx = ssl.create_default_context(cafile=CERT)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    body = json.dumps(event).encode()
    conn.request(
        "POST",
        "/v21.0/%s/events?access_token=TEST-TOKEN" % PIXEL,
        body=body,
        headers={"Host": "graph.facebook.com", "Content-Type": "application/json"},
    )
    resp = conn.getresponse()
    answer = resp.read()
    conn.close()
    return resp.status, answer


def write_share(user):
    share = os.environ.get("BACKEND_SHARE", "share")
    os.makedirs(share, exist_ok=True)
    with open(os.path.join(share, "users.csv"), "a", encoding="utf-8") as f:
        f.write("%s,%d\n" % (user["email"], user["signed_up"]))


def main():
    sink = start_sink()
    user = sign_up(os.environ.get("BACKEND_EMAIL", "alice@example.com"))
    status, answer = post_event(sink.server_address[1], conversions_event(user))
    write_share(user)
    print("signed up %s; Conversions API answered %d %s" % (user["email"], status, answer.decode()))
    sink.shutdown()


if __name__ == "__main__":
    main()
