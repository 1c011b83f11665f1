"""The one grammar: slash-command text and free-text questions read into one intent type.

- ``lexer``: the words of dates, ranges, months, parts of a year and topics, lexed once;
- ``intents``: the intent values (``Ask``, ``Timeline``, ``Who``, ``Define``, …);
- ``timeline``: the filters of a timeline request (years, months, events, topics);
- ``after_notes``: whether a request is about a time after the notes end;
- ``commands``: the `/nato` grammar parsed into an intent (``parse_command``).

Free text is recognised by ``bot.qa.understand`` (the engine's first stage), into the same
values: it reads the matcher's vocabulary, and the grammar sits below question answering.
Nothing is imported here, so that importing one module never loads the others.
"""
