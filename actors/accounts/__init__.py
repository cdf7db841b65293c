"""Accounts of the console: who signs in, and how.

- ``model``: ``Account`` (admin or coordinator), names, the kinds of one-time links;
- ``passwords``: Argon2id hashing, rehashed when the configured parameters change;
- ``invites``: one-time setup links (the first admin, a reset) and invitations to
  coordinate a community, valid ``[console] invite_valid_days``;
- ``signin`` and ``throttle``: signing in with a password within the brute-force rules;
- ``sessions``: server-side sessions, rotated at sign-in, ending when idle;
- ``passkeys``: WebAuthn registration and sign-in (instead of, or after, a password);
- ``coordinators``: an account's communities and the fediverse account it moderates with;
- ``audit``: the audit log.

SQL lives in ``actors.store.accounts``, ``actors.store.signins`` and ``actors.store.audit``;
the pages in ``actors.web.console``; the commands in ``actors.cli.accounts``.
"""
