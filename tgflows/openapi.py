"""Write the api's OpenAPI document (the console's client is generated from it)."""

from __future__ import annotations

import json
import sys

from api.app import create_app
from db.settings import Settings

if __name__ == "__main__":
    document = create_app(Settings()).openapi()
    # Same origin: otherwise the generator derives a base URL from the input's file name.
    document["servers"] = [{"url": "/"}]
    json.dump(document, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
