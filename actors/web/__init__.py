"""HTTP: ActivityPub JSON and HTML pages on the same URLs, by content negotiation."""
