#!/usr/bin/env python3
"""The client side of scripts/bench-judge.sh: sends N submissions to a running `sforge serve` at
once and prints the milliseconds until the last report is in.

In-process HTTP (standard library only) rather than curl and jq: a client process per request
and per poll costs CPU that the judge under test would otherwise have, on a 2-CPU machine enough
to distort the figures. Polls go over one kept-alive connection every 5 ms.

Usage: bench_judge_client.py PORT TOKENS ADMIN_SECRET ARCHIVE N
  TOKENS: one token, or several separated by commas (submission i goes to token i mod count:
  a burst spread over several runs).
"""

import http.client
import json
import sys
import threading
import time
import uuid


def submit(port, token, secret, archive):
    """POSTs one auto submission; returns its submission id."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in (("token", token), ("kind", "auto"), ("admin_secret", secret)):
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="archive"; '
        f'filename="submission.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n'.encode()
        + archive
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    body = b"".join(parts)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(
        "POST",
        "/api/v1/submit",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    resp = conn.getresponse()
    text = resp.read()
    conn.close()
    if resp.status != 200:
        sys.exit(f"error: submit answered {resp.status}: {text[:300]!r}")
    return json.loads(text)["submission_id"]


def wait_done(port, ids):
    """Polls every pending submission until all are completed; exits on any other end."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    pending = list(ids)
    while pending:
        still = []
        for sid in pending:
            conn.request("GET", f"/api/v1/result/{sid}")
            resp = conn.getresponse()
            status = json.loads(resp.read())["status"]
            if status in ("queued", "running"):
                still.append(sid)
            elif status != "completed":
                sys.exit(f"error: submission {sid} ended {status}")
        pending = still
        if pending:
            time.sleep(0.005)
    conn.close()


def main():
    port, tokens, secret, path, n = sys.argv[1:6]
    port, n, tokens = int(port), int(n), tokens.split(",")
    with open(path, "rb") as f:
        archive = f.read()
    ids = [None] * n
    errors = []

    def one(i):
        try:
            ids[i] = submit(port, tokens[i % len(tokens)], secret, archive)
        except SystemExit as e:
            errors.append(str(e))

    start = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit(errors[0])
    wait_done(port, ids)
    print(round((time.monotonic() - start) * 1000))


if __name__ == "__main__":
    main()
