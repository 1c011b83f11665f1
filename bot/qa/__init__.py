"""Question answering: from a question's text to an ``Answer`` citing the knowledge base."""
