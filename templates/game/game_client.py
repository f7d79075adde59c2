# sforge's client for the game app, run by the judge inside a game container: one HTTP call to
# the app on 127.0.0.1:8000, its answer printed after a status line, at most LIMIT + 1 bytes
# (the judge refuses longer answers). Usage: python3 -c <this> METHOD PATH LIMIT TIMEOUT < body
import http.client
import sys

method, path, limit, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
body = sys.stdin.buffer.read(65536) if method == "POST" else None
try:
    conn = http.client.HTTPConnection("127.0.0.1", 8000, timeout=timeout)
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read(limit + 1)
except Exception as exc:  # noqa: BLE001 - every failure is reported to the judge
    sys.stdout.write("SFORGE-GAME-ERROR " + repr(exc)[:300].replace("\n", " ") + "\n")
    sys.exit(0)
sys.stdout.write("SFORGE-GAME-STATUS %d\n" % resp.status)
sys.stdout.flush()
sys.stdout.buffer.write(data)
