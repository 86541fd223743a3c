"""The language core: text in, a compiled program out, run in a sandbox.

The pipeline, one module per stage::

    syntax/splitter.py   source → statements (bracket depth checked before anything recursive)
    syntax/parser.py     statement → AST (grammar.lark, Lark LALR, built once)
    compiler.py          AST → one Python function per script, cached by source text
    runtime/             values with Salebot semantics, operators, scopes
    builtins.py          the registry: the only way a script reaches the host
    limits.py            every bound, in one place
    errors.py            the errors a script can cause, each located in its source

Nothing here imports HTTP, databases or Mango: flows, stores, telephony and the server
plug into the core through :class:`~botlang.core.builtins.CallContext` and the registry.
"""
