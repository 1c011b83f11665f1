"""Tests of the chat-platform adapters, one folder per platform."""
