"""Delivery of notifications beyond the in-app feed: e-mail over SMTP and signed webhooks,
retried with backoff from the `deliveries` table (worker.py), every attempt logged."""
