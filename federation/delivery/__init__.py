"""Durable delivery: a queue port, a retry policy, a per-host circuit breaker and one loop.

The domain owns the queue (rows in its database); this package only decides when to send,
how often to retry and when to give up.
"""
