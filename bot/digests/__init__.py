"""Scheduled milestone digests: composing, scheduling, the digest commands and posting."""
