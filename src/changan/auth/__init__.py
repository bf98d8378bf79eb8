"""Users, roles, jurisdictions, API tokens and the audit log."""
