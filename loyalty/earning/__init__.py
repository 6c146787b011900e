"""Earning points from rules: SQL for sets of transactions, lines for the preview.

Modules: `rules` (the rules as plain values), `clock` (local time in SQL), `sql` (what a set of
transactions earns), `posting` (set-based ledger writes), `transactions` (the pass), `referrals`,
`refunds`, `reviews`, `preview` (what one transaction would earn, and why).
"""
