"""Every query lives here; repositories never commit, callers own the transaction."""
