"""Moderation: what a community relays, what its coordinators hold, remove, ban and
report, and the public log of it all.

- :mod:`posting`: the verdict on a post sent to a community (relay, hold or refuse);
- :mod:`holds`: the queue of held posts (approve, reject, reject all);
- :mod:`filters`: words and link domains that hold a post;
- :mod:`removals`, :mod:`bans`: a coordinator's removals, locks and bans, federated in
  Lemmy's shapes;
- :mod:`reports`: ``Flag`` in (a queue per community) and out (by the Application actor);
- :mod:`modlog`: the public moderation log every decision writes to.
"""
