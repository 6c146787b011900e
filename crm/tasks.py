"""Celery entry points of crm: thin, one service call each, safe to run twice."""
