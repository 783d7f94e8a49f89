"""Every limit the api enforces at the door and the workflow at run time, in one place.

Pure constants (the workflow sandbox imports this module); README.md "Limits" lists them.
"""

from __future__ import annotations

# Telegram refuses a message longer than this, counted after rendering.
MAX_MESSAGE_CHARS = 4096

# Delays and reply timeouts: a zero wait is a cycle that spins, a century is a typo.
MIN_WAIT_SECONDS = 1
MAX_WAIT_SECONDS = 365 * 86400

# A flow document: nodes, and its size as compact JSON (what every workflow reads).
MAX_FLOW_NODES = 500
MAX_FLOW_EDGES = 2000
MAX_FLOW_BYTES = 256 * 1024
MAX_NODE_ID_CHARS = 64
MAX_VARIANTS = 20
MAX_VARIANT_NAME_CHARS = 64
MAX_CONDITION_VALUE_CHARS = 1000

# Sends one execution may make; a flow that loops through a delay stops here.
# TGFLOWS_MAX_SENDS_PER_EXECUTION overrides it (read by the worker, passed in the plan).
DEFAULT_MAX_SENDS_PER_EXECUTION = 50

# Simulated replies in one dry run (POST /campaign-flows/{id}/preview).
MAX_SIMULATED_REPLIES = 20

# Names and free text stored on rows that every list returns.
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000

# Contacts' custom fields: usable in templates as {custom.<key>}.
MAX_CUSTOM_FIELDS = 50
MAX_CUSTOM_FIELD_KEY_CHARS = 64
MAX_CUSTOM_FIELD_VALUE_CHARS = 1000
MAX_TAGS = 50
MAX_TAG_CHARS = 64

# Request bodies: refused with 413 before the rest is read.
MAX_JSON_BODY_BYTES = 1024 * 1024
MAX_IMPORT_BODY_BYTES = 20 * 1024 * 1024
MAX_IMPORT_ROWS = 100_000

# Failed authentications per client address and per token prefix in a sliding minute.
AUTH_FAILURES_PER_MINUTE = 30
