"""Jinja templates written by users, rendered in a hardened sandbox (SPEC §12).

Unsafe attributes are errors rather than empty text, inputs cannot be mutated, and both the
output and the values built while rendering are bounded.
"""

from typing import Any

from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Concat
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_TEMPLATE_OUTPUT_CHARS = 100_000
# Values built while rendering may exceed the output (a long text measured with `length`), but
# not without bound: repetition, powers and concatenation in a loop would otherwise let a short
# template exhaust the worker's memory before the output limit is ever reached.
MAX_TEMPLATE_VALUE_SIZE = 1_000_000
MAX_TEMPLATE_POWER_BITS = 100_000


def _checked_size(value: Any) -> Any:
    if isinstance(value, str | bytes | list | tuple) and len(value) > MAX_TEMPLATE_VALUE_SIZE:
        raise SecurityError(f"a value in the template exceeds {MAX_TEMPLATE_VALUE_SIZE} items")
    return value


def _bounded_multiply(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if (
            isinstance(sequence, str | bytes | list | tuple)
            and isinstance(count, int)
            and len(sequence) * count > MAX_TEMPLATE_VALUE_SIZE
        ):
            raise SecurityError(f"repetition exceeds {MAX_TEMPLATE_VALUE_SIZE} items")
    return left * right


def _bounded_power(left: Any, right: Any) -> Any:
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and abs(left) > 1
        and left.bit_length() * right > MAX_TEMPLATE_POWER_BITS
    ):
        raise SecurityError("the power is too large to compute")
    return left**right


class _BoundedCodeGenerator(CodeGenerator):
    """Routes `~` through the size check; the sandbox has no hook for it."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked_size(")
        super().visit_Concat(node, frame)
        self.write(")")


class _TemplateSandbox(ImmutableSandboxedEnvironment):
    """Jinja's sandbox (no private attributes, no mutation of inputs) with bounded values.

    An unsafe attribute fails the render instead of printing as an empty string, so a probe like
    `{{ ''.__class__ }}` is reported to the author rather than silently swallowed.
    """

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"+", "*", "**"})
    _bounded_binops = {
        "+": lambda left, right: _checked_size(left + right),
        "*": _bounded_multiply,
        "**": _bounded_power,
    }

    def __init__(self) -> None:
        super().__init__(autoescape=False)
        self.checked_size = _checked_size

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        return self._bounded_binops[op](left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        raise SecurityError(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe"
        )


_templates = _TemplateSandbox()


def render_template(source: str, values: dict[str, Any]) -> str:
    """Render `source` in the sandbox; raise on any template fault or an oversized output."""
    parts: list[str] = []
    size = 0
    # Streamed so that rendering stops as soon as the output passes the limit.
    for chunk in _templates.from_string(source).generate(values):
        size += len(chunk)
        if size > MAX_TEMPLATE_OUTPUT_CHARS:
            raise SecurityError(f"the output exceeds {MAX_TEMPLATE_OUTPUT_CHARS} characters")
        parts.append(chunk)
    return "".join(parts)
