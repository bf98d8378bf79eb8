"""Watchlists (布控): entries of plates to look out for."""
