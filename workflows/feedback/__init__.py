"""Feedback forms: building (versions), links, answering, reading free text, dashboards."""
