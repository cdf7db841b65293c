"""Fixtures of the moderation tests: the flow tests' real copub on loopback and its peers
(tests/flows/conftest.py): ``copub``, ``remote``, ``remote2``, ``community``, ``follower``."""

from tests.flows.conftest import community, copub, follower, remote, remote2

__all__ = ["community", "copub", "follower", "remote", "remote2"]
