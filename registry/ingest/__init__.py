"""Feed ingestion: fetching feeds and turning their bytes into raw records.

``textio`` reads lines safely from a binary stream, ``formats`` turns lines into
``records.Record`` objects (plain lists and CSV) and detects a file's format from its
content. Values come out raw: normalisation is ``registry.domain.normalize``'s job.
"""
