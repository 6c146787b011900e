"""Privacy on request (China's PIPL): data exports, erasures, the access log.

- `registry`: each app says what it holds about a customer (an exporter) and how to make it
  anonymous (an anonymiser), registered from its AppConfig.ready(): crm imports no other app.
- `export`: the machine-readable file (JSON), streamed, one query per table.
- `services`: the `PrivacyRequest` records, the erasure, the access log and its retention.
"""
