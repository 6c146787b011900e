"""Customer lifetime value: the purchase summary (summary.py), the BG/NBD and Gamma-Gamma models
(fitting.py) and the scores they give each customer (scoring.py). The nightly service that
fits, scores and stores is loyalty.services.customer_values."""
