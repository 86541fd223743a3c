"""Small internal helpers shared by several parts of botlang (not part of the public API)."""
