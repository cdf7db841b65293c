"""Whole conversations: a thread's posts fetched from their servers (FEP-7888, FEP-f228)
and filed in the community's thread. gather.py fetches and confirms, backfill.py bounds a
backfill, filing.py stores, refresh.py looks again on a schedule."""
