"""Campaigns: launch (members, control group, messages), conversions and results."""
