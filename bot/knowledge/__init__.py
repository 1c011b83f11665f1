"""The knowledge base: frozen values (``base``), the curator-facing schema (``schema``),
``load_knowledge`` between them (``loading``) and citation checks against the source
document (``citations``)."""
