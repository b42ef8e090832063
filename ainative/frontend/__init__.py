"""The front end: cell text → a checked IR, one step a module.

``spec`` (the header and body of a cell, as a value) → ``lexer`` (the three spellings become one
token stream) → ``notation.lark`` and ``parser`` (SymPy expressions, never ``eval``) → ``ir``
(immutable statements) → ``roles`` (what each name is) → ``shapes`` (symbolic shapes checked).
``nodes``, ``operations`` and ``distributions`` are the tables of what the notation knows.
"""
