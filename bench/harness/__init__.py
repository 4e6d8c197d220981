"""The harness compares Python installers (pip, poetry, conda, uv, pdm, resolvent) on this machine.

``python -m bench`` installs each tool into its own environment (:mod:`.tools`), fetches
a local mirror of every file a stack needs and serves it on 127.0.0.1 (:mod:`.mirror`),
times each tool's natural command cold and warm (:mod:`.runner`), checks that every tool
installed the same distributions (:mod:`.distributions`), and writes a JSON record
(:mod:`.results`), a Markdown table (:mod:`.table`) and a bar chart (:mod:`.plot`) with
the machine's description (:mod:`.machine`). :mod:`.cli` ties them together.
"""
