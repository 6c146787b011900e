"""Care sequences: triggers enrol customers (triggers.py), the beat advances them (advance.py)."""
