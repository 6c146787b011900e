"""The import engine: one path for the admin, the `import_file` command and the Celery task.

    reading   streams rows out of a CSV (UTF-8, UTF-8 with BOM, GB18030/GBK) or XLSX file,
              after checking its size and type by content
    mapping   finds the header row and maps its (English or Chinese) headers to fields
    cleaning  turns one cell's text into a value, or raises ValueError with the reason
    kinds     what a row of each kind is: its fields, key, lookups and classification
    writing   set-based writes: a staging table and one INSERT ... SELECT per chunk
    engine    reads, validates and writes chunk by chunk; a dry run stops before writing

The job's lifecycle (claim, progress, refused rows, failure) is crm.services.imports.
"""
