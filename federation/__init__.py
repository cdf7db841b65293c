"""The ActivityPub protocol: wire shapes, signatures, fetching, delivery.

This package knows nothing of communities, SQL or templates; the domain passes
in what it needs (key lookups, stores, queues) through small interfaces.
"""
