"""Swagger UI and ReDoc from this server's own files (no CDN): they work offline.

The Swagger UI and ReDoc bundles ship in the `fastapi-offline` package; the pages load
nothing else, so api.middleware can give them a CSP without 'unsafe-inline' scripts.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException

ASSETS = Path(str(files("fastapi_offline").joinpath("static")))
OWN = Path(__file__).parent / "static"
FILES = {
    "swagger-ui-bundle.js": ASSETS / "swagger-ui-bundle.js",
    "swagger-ui.css": ASSETS / "swagger-ui.css",
    "redoc.standalone.js": ASSETS / "redoc.standalone.js",
    "favicon.png": ASSETS / "favicon.png",
    "swagger-init.js": OWN / "swagger-init.js",
}
SWAGGER = """<!DOCTYPE html>
<html><head><title>{title} - Swagger UI</title><meta charset="utf-8">
<link rel="icon" href="/docs-assets/favicon.png">
<link rel="stylesheet" href="/docs-assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-assets/swagger-ui-bundle.js"></script>
<script src="/docs-assets/swagger-init.js"></script></body></html>"""
REDOC = """<!DOCTYPE html>
<html><head><title>{title} - ReDoc</title><meta charset="utf-8">
<link rel="icon" href="/docs-assets/favicon.png"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<script src="/docs-assets/redoc.standalone.js"></script></body></html>"""


def install_docs(app: FastAPI) -> None:
    """/docs, /redoc and /docs-assets/<file>; hidden from the OpenAPI document."""

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return HTMLResponse(SWAGGER.format(title=app.title))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return HTMLResponse(REDOC.format(title=app.title))

    @app.get("/docs-assets/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        path = FILES.get(name)
        if path is None:
            raise HTTPException(404, "No such documentation asset")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})
