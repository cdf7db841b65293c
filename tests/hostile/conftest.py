"""Fixtures of the hostile suite: the flow tests' real copub on loopback and its peers
(tests/flows/conftest.py): ``copub``, ``remote``, ``remote2``, ``community``, ``follower``;
and the links tests' ``home`` (a copub with the community ``hospital``) and ``fa`` (its
follower), for fake origins of other software (tests/links/conftest.py)."""

from tests.flows.conftest import community, copub, follower, remote, remote2
from tests.links.conftest import fa, home

__all__ = ["community", "copub", "fa", "follower", "home", "remote", "remote2"]
