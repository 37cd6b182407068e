"""Reporting: the figures of the back office's dashboard, each one named, set-based SQL aggregate.

It reads every domain package and is read by ``app``: ``app → reporting → notifications → rewards →
loyalty``. Nothing here writes, and nothing loops over members in Python.
"""
