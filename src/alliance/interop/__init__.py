"""Adapters at the edges: files, tables, FHIR, ConvoKit. The domain core never imports these."""
