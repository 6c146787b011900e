"""The outbox's services: enqueue a message, dispatch the due ones through the rules and the
channel backends, at most once. Models live in workflows/models/outbox.py."""
