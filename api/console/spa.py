"""Serve the built console at `/`: files from its dist directory, index.html for its routes."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.domain_errors import NotFound

# The repository's frontend/dist (editable installs and the Docker image keep this layout).
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "frontend" / "dist"
NOT_BUILT = (
    "<!doctype html><title>tgflows</title><p>The console is not built. "
    "Run <code>make dev</code>, or <code>npm ci && npm run build</code> in "
    "<code>frontend/</code>. The API is at <a href='/docs'>/docs</a>.</p>"
)


def console_dir() -> Path:
    return Path(os.environ.get("TGFLOWS_CONSOLE_DIR") or DEFAULT_DIST).resolve()


def _api_roots(app: FastAPI) -> frozenset[str]:
    """First path segments the API owns: those never fall back to the console."""
    # The OpenAPI paths, because included routers are not listed one route each in
    # app.routes; plus the routes listed there (the documentation pages).
    paths = set(app.openapi().get("paths", {}))
    paths |= {getattr(route, "path", "") for route in app.routes}
    roots = {path.strip("/").split("/", 1)[0] for path in paths - {"/{path:path}"}}
    return frozenset(roots - {""})


def mount_console(app: FastAPI, dist: Path | None = None) -> None:
    """Sign-in, the console's endpoints and the SPA: call it after every other router."""
    from api.console import auth, campaign_views

    app.include_router(auth.router)
    app.include_router(campaign_views.router)
    app.include_router(campaign_views.view_router)
    root = (dist or console_dir()).resolve()
    api_roots: list[frozenset[str]] = []

    @app.get("/{path:path}", include_in_schema=False)
    async def console(path: str) -> Response:
        if not api_roots:
            api_roots.append(_api_roots(app))
        if path.split("/", 1)[0] in api_roots[0]:
            raise NotFound("Not found")
        file = (root / path).resolve()
        if path and file.is_relative_to(root) and file.is_file():
            # Vite puts a content hash in every asset name: cache those for good.
            immutable = path.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            return FileResponse(file, headers={"Cache-Control": cache})
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
