"""Feed ingestion: fetching feeds and turning their bytes into raw records.

``textio`` reads lines safely from a binary stream; ``detect`` tells a file's format from its
content; one module a format turns lines into ``records.Record`` objects: ``plainlist``
(plain lists, netsets, hosts files, vCards), ``csvrows`` (CSV, its header rules in
``csvheader``), ``jsonl``, ``jsondoc``, ``misp``. Values come out raw: normalisation is
``registry.domain.normalize``'s job.
"""
