"""sforge's game app: serves one game over HTTP inside a game container (Python 3 stdlib only).

The judge copies this file to /tmp/game_server_app.py; the task's `judge.game_server_cmd` starts
it on port 8000, with either

  --game FILE.py   a Python game module defining a class `Game` whose instances have
                   reset() -> str (the opening text), step(action: str) -> str (the answer),
                   and the attributes score (int), max_score (int) and done (bool); or
  --rom FILE       a Z-machine story file played with the `jericho` library (must be installed).

Endpoints (JSON): GET /health, POST /new, POST /step {"action": str}, GET /status, POST /close.
"""

import argparse
import importlib.util
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_BODY = 65536


class JerichoGame:
    """A Z-machine story behind the `Game` interface."""

    def __init__(self, rom):
        try:
            from jericho import FrotzEnv  # noqa: PLC0415 - optional dependency
        except ImportError:
            sys.stderr.write("error: --rom needs the jericho library (pip install jericho)\n")
            sys.exit(1)
        self.env = FrotzEnv(rom)
        self.score, self.max_score, self.done = 0, self.env.get_max_score(), False

    def reset(self):
        observation, _info = self.env.reset()
        self.score, self.done = 0, False
        return observation

    def step(self, action):
        observation, _reward, done, _info = self.env.step(action)
        self.score, self.done = self.env.get_score(), bool(done)
        return observation

    def close(self):
        self.env.close()


def load_module_game(path):
    spec = importlib.util.spec_from_file_location("sforge_game", path)
    if spec is None or spec.loader is None:
        sys.stderr.write(f"error: cannot load the game module {path}\n")
        sys.exit(1)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "Game"):
        sys.stderr.write(f"error: {path} defines no class Game\n")
        sys.exit(1)
    return module.Game


class Session:
    """The one game of this container and its counters."""

    def __init__(self, make):
        self.make, self.game, self.lock = make, None, threading.Lock()
        self.moves, self.peak = 0, 0

    def values(self, observation=""):
        game = self.game
        score = int(getattr(game, "score", 0)) if game else 0
        return {
            "observation": str(observation),
            "score": score,
            "peak_score": self.peak,
            "max_score": int(getattr(game, "max_score", 0)) if game else 0,
            "done": bool(getattr(game, "done", True)) if game else True,
            "moves": self.moves,
        }

    def new(self):
        if self.game is not None and hasattr(self.game, "close"):
            self.game.close()
        self.game = self.make()
        self.moves, self.peak = 0, 0
        return self.values(self.game.reset())

    def step(self, action):
        if self.game is None or getattr(self.game, "done", False):
            return None
        observation = self.game.step(action)
        self.moves += 1
        self.peak = max(self.peak, int(getattr(self.game, "score", 0)))
        return self.values(observation)

    def close(self):
        values = self.values()
        if self.game is not None:
            self.game.done = True
        closed = {k: values[k] for k in ("peak_score", "max_score", "moves")}
        closed["final_score"] = values["score"]
        return closed


def handler_for(session):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self):
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            try:
                value = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return None
            return value if isinstance(value, dict) else None

        def do_GET(self):  # noqa: N802 - http.server's naming
            with session.lock:
                if self.path == "/health":
                    self.answer(200, {"ok": True})
                elif self.path == "/status":
                    self.answer(200, session.values())
                else:
                    self.answer(404, {"detail": "Not Found"})

        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.body()
            with session.lock:
                if self.path == "/new":
                    self.answer(200, session.new())
                elif self.path == "/step":
                    action = body.get("action") if body else None
                    if not isinstance(action, str):
                        self.answer(422, {"detail": "body must be {\"action\": str}"})
                        return
                    values = session.step(action)
                    if values is None:
                        self.answer(400, {"detail": "No active game (start one, or it is over)"})
                    else:
                        self.answer(200, values)
                elif self.path == "/close":
                    self.answer(200, session.close())
                else:
                    self.answer(404, {"detail": "Not Found"})

    return Handler


def main():
    parser = argparse.ArgumentParser(description="sforge game app")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--game", help="Python game module defining class Game")
    source.add_argument("--rom", help="Z-machine story file (needs jericho)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="0.0.0.0")
    args = parser.parse_args()
    if args.rom:
        def make():
            return JerichoGame(args.rom)

        make().close()  # fail now (exit 1) when jericho or the story is missing
    else:
        make = load_module_game(args.game)
    server = HTTPServer((args.host, args.port), handler_for(Session(make)))
    server.serve_forever()


if __name__ == "__main__":
    main()
