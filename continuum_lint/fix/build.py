"""Small libcst helpers the fix families share: templates, parentheses, comment counts."""

from __future__ import annotations

import libcst as cst


class _Holes(cst.CSTTransformer):
    """Replace the placeholder names of a template with the given nodes."""

    def __init__(self, holes: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self.holes = holes

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.holes.get(original_node.value, updated_node)


def expression(template: str, **holes: cst.BaseExpression) -> cst.BaseExpression:
    """Parse ``template`` and put each node of ``holes`` where its name appears.

    ``expression("sorted(ITER)", ITER=node)`` keeps ``node`` as it is, comments included.
    """
    parsed = cst.parse_expression(template)
    if not holes:
        return parsed
    result = parsed.visit(_Holes(holes))
    assert isinstance(result, cst.BaseExpression)
    return result


def keep_parentheses(new: cst.BaseExpression, old: cst.BaseExpression) -> cst.BaseExpression:
    """``new`` wearing the parentheses ``old`` wore (``(time.time())`` stays parenthesized)."""
    if not old.lpar:
        return new
    return new.with_changes(lpar=old.lpar, rpar=old.rpar)


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def visit_Comment(self, node: cst.Comment) -> None:
        self.count += 1


def comment_count(node: cst.CSTNode) -> int:
    """How many comments ``node`` contains (a fix must not drop any)."""
    counter = _Comments()
    node.visit(counter)
    return counter.count


def without_parentheses(node: cst.BaseExpression) -> cst.BaseExpression:
    """``node`` without its own parentheses, unless they hold a comment."""
    if not node.lpar:
        return node
    bare = node.with_changes(lpar=[], rpar=[])
    return bare if comment_count(bare) == comment_count(node) else node


def positional_args(call: cst.Call) -> list[cst.Arg] | None:
    """The call's arguments if all are plain positional ones (no ``*``, ``**``, keyword)."""
    for arg in call.args:
        if arg.keyword is not None or arg.star:
            return None
    return list(call.args)
