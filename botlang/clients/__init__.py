"""Clients: phone numbers (:mod:`.phones`), matching a caller to a client (:mod:`.matching`)
and calling a client from the client card (:mod:`.card`).

The package imports nothing itself, so the language's standard library can use
:mod:`.phones` without loading the stores.
"""
