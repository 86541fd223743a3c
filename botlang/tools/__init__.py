"""Tools for bot authors: the checker, the REPL and the function reference."""
