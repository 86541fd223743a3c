"""Syntax: the statement splitter, the Lark parser facade, the AST and message templates."""

from botlang.core.syntax.parser import parse_expression, parse_program
from botlang.core.syntax.template import parse_template

__all__ = ["parse_expression", "parse_program", "parse_template"]
