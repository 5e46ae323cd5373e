"""Verification: volume content digests (digest.py) and the comparison of two inventories (compare.py)."""
