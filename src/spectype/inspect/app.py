"""The web layer: a small Starlette app over an InspectSession, served by uvicorn.

The page is static HTML + JS (`static/`); plots use plotly.js from the installed `plotly`
package (served from its package data, so nothing is fetched from a CDN). Every route is a
plain function, which Starlette runs in its thread pool, so a slow file read never blocks the
event loop.
"""

from __future__ import annotations

import socket
import threading
import webbrowser
from importlib import resources
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .session import InspectSession

STATIC = Path(str(resources.files("spectype.inspect") / "static"))


def plotly_js() -> Path:
    """plotly.min.js shipped inside the `plotly` Python package (MIT)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: plotly.min.js missing; reinstall the pinned plotly package")
    return path


def create_app(session: InspectSession) -> Starlette:
    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name == "plotly.min.js":
            return FileResponse(plotly_js())
        path = STATIC / name
        if "/" in name or not path.is_file():
            return JSONResponse({"error": f"no static file {name}"}, status_code=404)
        return FileResponse(path, headers={"Cache-Control": "no-store"})

    def info(request: Request) -> Response:
        return JSONResponse(session.info())

    async def view(request: Request) -> Response:
        body = await request.json()
        allowed = {"order", "cls", "flag", "disagree", "sample", "seed"}
        kw = {k: (v if v != "" else None) for k, v in body.items() if k in allowed}
        if kw.get("sample") is not None:
            kw["sample"] = int(kw["sample"])
        if kw.get("seed") is not None:
            kw["seed"] = int(kw["seed"])
        kw["disagree"] = bool(kw.get("disagree"))
        try:
            return JSONResponse(session.set_view(**kw))
        except Exception as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    def row(request: Request) -> Response:
        pos = int(request.path_params["pos"])
        try:
            return JSONResponse(session.row(pos))
        except IndexError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)

    async def vet(request: Request) -> Response:
        body = await request.json()
        try:
            rec = session.vet(int(body["pos"]), str(body["action"]), body.get("value"))
        except (ValueError, IndexError, KeyError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"vetting": rec, "n_vetted": len(session.store)})

    routes = [
        Route("/", index),
        Route("/static/{name}", static),
        Route("/api/info", info),
        Route("/api/view", view, methods=["POST"]),
        Route("/api/row/{pos:int}", row),
        Route("/api/vet", vet, methods=["POST"]),
    ]
    return Starlette(routes=routes)


class InspectServer:
    """uvicorn in a background thread on an already-bound socket (so port 0 works and the URL
    is known before serving starts). `serve_forever` for the command, `start`/`stop` for tests."""

    def __init__(self, session: InspectSession, host: str = "127.0.0.1", port: int = 0):
        import uvicorn

        self.session = session
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise OSError(f"cannot listen on {host}:{port} ({exc}); pick another --port (0 = any free)") from exc
        # Listen now: a browser opened on the printed URL queues in the backlog instead of
        # being refused while uvicorn starts.
        self.sock.listen(128)
        self.host, self.port = self.sock.getsockname()[:2]
        config = uvicorn.Config(create_app(session), log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def start(self) -> InspectServer:
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                        daemon=True, name="inspect-server")
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the inspect server stopped while starting")
            threading.Event().wait(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()
        self.session.close()

    def serve_forever(self, open_browser: bool = False) -> None:
        if open_browser:
            threading.Timer(0.5, webbrowser.open, args=(self.url,)).start()
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.sock.close()
            self.session.close()
