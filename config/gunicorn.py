"""gunicorn's settings for production (`gunicorn -c config/gunicorn.py config.wsgi`).

Workers and threads come from the environment (WEB_CONCURRENCY, GUNICORN_THREADS); the access
log leaves out the client's address and the query string (search terms may be names or phone
numbers) and carries the request id the application logs with.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
max_requests = 2000  # recycles a worker now and then: a slow leak never grows for ever
max_requests_jitter = 200
accesslog = "-"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s'
