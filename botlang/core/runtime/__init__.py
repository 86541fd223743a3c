"""Runtime: values with Salebot semantics, operators and variable scopes."""
