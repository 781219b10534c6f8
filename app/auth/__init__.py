"""Who may call the REST API: bearer tokens with scopes (read < operate < admin)."""
