"""Outbound webhooks: emit (one delivery per subscribed endpoint, in the caller's transaction),
deliver (a beat task, signed, retried with backoff), and the receivers of loyalty's signals.

Delivery is at least once: a delivery whose worker died mid-POST is posted again. Receivers
deduplicate on the `X-Webhook-Id` header (the delivery's event id, the same on every attempt).
"""
