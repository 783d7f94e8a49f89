"""Activities: everything that touches PostgreSQL, Temporal's client or Telegram."""
