"""Users, tokens, organizations and their members."""
