"""The sandbox under attack: one named test per technique (see docs/security.md)."""
