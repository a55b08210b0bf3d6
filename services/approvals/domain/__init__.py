"""Approval rules as plain Python: chain templates, quorum, contract status transitions."""
