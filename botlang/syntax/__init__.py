"""Syntax: the statement splitter, the Lark parser facade, the AST and message templates."""

from botlang.syntax.parser import parse_expression, parse_program
from botlang.syntax.template import parse_template

__all__ = ["parse_expression", "parse_program", "parse_template"]
