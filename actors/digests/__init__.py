"""Email digests of a community: who subscribed (double opt-in), what a period's digest
holds, and the periodic task that sends each one once through the operator's SMTP server.

- ``config.py``: ``[email]`` (off while no SMTP host is set);
- ``periods.py``: weeks and months, the periods a digest covers (pure);
- ``tokens.py``: confirmation and unsubscribe tokens (pure);
- ``content.py``: what a digest says (values the renderers take);
- ``mailer.py``: the message (multipart text and HTML, List-Unsubscribe) and the SMTP send;
- ``subscribing.py``: subscribe, confirm, unsubscribe;
- ``service.py``: the schedule (a singleton) and the send queue.
"""
