"""Durable state: subscriptions, the delivery ledger, feedback and unanswered questions.

``protocol`` (the ``Store`` every caller types against), ``values`` (what it takes and
returns), ``migrations`` (the schema as numbered steps) and ``sqlite`` (the default backend).
"""
