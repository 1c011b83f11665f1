"""The knowledge base: frozen values (``base``), the curator-facing schema (``schema``) and
citation checks against the source document (``citations``)."""
