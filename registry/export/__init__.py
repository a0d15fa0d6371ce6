"""Export formats for the tools members run: one pure writer module per format.

Each writer turns ``records.Listed`` indicators (or, for MISP, the feed's events) into chunks
of bytes, and knows nothing of SQL or HTTP; ``services.exports`` reads the database and calls
them, the CLI and ``web.exports`` deliver the bytes. STIX lives in ``registry.stix`` (its rows
read by ``services.stix_export``).
"""
