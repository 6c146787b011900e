"""Service tickets: states, routing and assignment, the SLA in business hours, escalation."""
