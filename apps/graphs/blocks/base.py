"""The block contract (SPEC §4).

A block is a stateless class with a constant UUID, pydantic input and output schemas, a cost rule,
examples, and a generator `run(input, context)` that yields `(pin, value)` pairs — one run may
yield many values on one pin. Blocks import no Django: what they need arrives in the context.
"""

import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from apps.common.numbers import INT64_MAX, INT64_MIN, in_int64
from apps.graphs.blocks.context import BlockContext


class BlockCategory(StrEnum):
    AI = "AI"
    TEXT = "TEXT"
    LOGIC = "LOGIC"
    DATA = "DATA"
    BASIC = "BASIC"
    INPUT = "INPUT"
    OUTPUT = "OUTPUT"
    DEVELOPER_TOOLS = "DEVELOPER_TOOLS"
    AGENT = "AGENT"
    COMMUNICATION = "COMMUNICATION"


class BlockType(StrEnum):
    """Becomes the node_type of every node that uses the block."""

    STANDARD = "standard"
    INPUT = "input"
    OUTPUT = "output"
    WEBHOOK = "webhook"
    NOTE = "note"
    AGENT = "agent"


# Blocks whose `value` pin is filled from the run's inputs, under the node's `name`.
RUN_INPUT_BLOCK_TYPES = frozenset({BlockType.INPUT, BlockType.WEBHOOK})


class CostUnit(StrEnum):
    RUN = "RUN"  # amount per execution
    SECOND = "SECOND"  # amount per started second of wall time
    BYTE = "BYTE"  # amount per byte of input


@dataclass(frozen=True)
class BlockCost:
    """One cost rule: applies when every `filter` key equals the node's input (first match wins)."""

    amount: int
    unit: CostUnit = CostUnit.RUN
    filter: Mapping[str, Any] = field(default_factory=dict)

    def matches(self, input_data: Mapping[str, Any]) -> bool:
        return all(input_data.get(key) == value for key, value in self.filter.items())


class FailureKind(StrEnum):
    """Why a provider call failed, as blocks report it (context.report_failure)."""

    RATE_LIMITED = "rate_limited"  # HTTP 429 or a provider's own rate-limit answer
    SERVER_ERROR = "server_error"  # HTTP 5xx
    TIMEOUT = "timeout"
    CONNECTION = "connection"  # refused, reset, DNS failure
    CLIENT_ERROR = "client_error"  # 4xx other than 429: the same request fails again
    AUTH = "auth"  # 401/403 after any refresh
    INVALID_RESPONSE = "invalid_response"  # malformed JSON, a body over the size limit


@dataclass(frozen=True)
class RetryPolicy:
    """Which failures another attempt may cure (SPEC §17): a node of such a block retries them
    up to `max_attempts` times with exponential backoff, honouring `retry_after_seconds`."""

    max_attempts: int = 3
    retriable: frozenset[FailureKind] = frozenset(
        {
            FailureKind.RATE_LIMITED,
            FailureKind.SERVER_ERROR,
            FailureKind.TIMEOUT,
            FailureKind.CONNECTION,
        }
    )

    def is_retriable(self, kind: str | None) -> bool:
        return kind in self.retriable


PROVIDER_RETRY = RetryPolicy()


def SchemaField(
    default: Any = ...,
    *,
    description: str = "",
    title: str | None = None,
    secret: bool = False,
    advanced: bool = False,
    placeholder: str | None = None,
    options: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> Any:
    """A pin. `secret` pins are stripped from exports; `advanced` ones are folded in the UI;
    `options` are values the UI offers (the pin still takes others)."""
    extra: dict[str, Any] = {"secret": secret, "advanced": advanced}
    if placeholder is not None:
        extra["placeholder"] = placeholder
    if options is not None:
        extra["options"] = options
    return Field(default, description=description, title=title, json_schema_extra=extra, **kwargs)


class BlockSchema(BaseModel):
    """Input schemas refuse unknown keys: a misspelt `input_default` key is an error. Integers
    anywhere in an input are held to 64 bits, the bound of JSON integers in the platform."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    @field_validator("*", mode="before")
    @classmethod
    def _integers_in_64_bits(cls, value: Any) -> Any:
        if _out_of_int64(value):
            raise PydanticCustomError(
                "int64", f"integers must lie between {INT64_MIN} and {INT64_MAX}"
            )
        return value


def _out_of_int64(value: Any) -> bool:
    """Whether an integer beyond 64 bits sits in `value` (iterative: inputs may nest deeply)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if not in_int64(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class BlockOutput(BaseModel):
    """Every output schema has the `error` pin; a value on it fails the node execution."""

    error: str = SchemaField(description="Why this execution failed.")


class BlockInputError(ValueError):
    """The input does not satisfy the block's input schema."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{pin}: {message}" for pin, message in errors.items()))


ExpectedValue = Any | type | Callable[[Any], bool]


@cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


class Block:
    id: ClassVar[str]
    name: ClassVar[str]
    description: ClassVar[str]
    categories: ClassVar[frozenset[BlockCategory]]
    block_type: ClassVar[BlockType] = BlockType.STANDARD
    Input: ClassVar[type[BlockSchema]]
    Output: ClassVar[type[BlockOutput]]
    costs: ClassVar[tuple[BlockCost, ...]] = ()
    # Links leaving a static block keep their last value for every later execution of the sink.
    static_output: ClassVar[bool] = False
    # Other ids the block answers to (the seed's example client uses "text_input_block").
    aliases: ClassVar[tuple[str, ...]] = ()
    # Pure and instant (no I/O, no user code, bounded work): the engine runs it on its own
    # thread instead of starting one, so it has no time limit and cannot be interrupted.
    inline: ClassVar[bool] = False
    # The provider whose credentials the block needs (apps.integrations), if any: the context
    # carries the selected ones, and with the user's own no block cost is charged (SPEC §9).
    credentials_provider: ClassVar[str | None] = None
    # Calls the nodes linked from its `tools` pin as tools (the AI Agent, SPEC §15).
    calls_tools: ClassVar[bool] = False
    # Waits for a person (Human Review): never a tool, whose caller waits for it.
    pauses: ClassVar[bool] = False
    # The credential types (apps.integrations.providers.CredentialType values) the block can
    # use; a node given another type is refused at save and at run.
    credential_types: ClassVar[tuple[str, ...]] = ("api_key",)
    # None: no failure of this block is worth retrying (SPEC §17).
    retry_policy: ClassVar[RetryPolicy | None] = None
    # Default per-node time limit in seconds; a node may override it.
    timeout_seconds: ClassVar[float] = 300.0
    # Examples: one input dict (or several) and the (pin, value) pairs the run yields in order.
    # An expected value may be a type (isinstance check) or a predicate (called with the value).
    test_input: ClassVar[dict[str, Any] | list[dict[str, Any]]]
    test_output: ClassVar[list[tuple[str, ExpectedValue]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "id" not in cls.__dict__:
            return  # an abstract intermediate class
        uuid.UUID(cls.id)  # a malformed constant id fails at import, not at run time
        if not issubclass(cls.Output, BlockOutput):
            raise TypeError(f"{cls.__name__}.Output must subclass BlockOutput (the error pin)")

    def run(self, input_data: Any, context: BlockContext) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    # --- derived facts used by validation, the API and the engine -----------------------------

    @classmethod
    def runs_inline(cls, input_default: Mapping[str, Any], linked_pins: frozenset[str]) -> bool:
        """Whether a node of this block, with these defaults and these input pins linked (base
        names), runs on the engine's own thread: `inline`, unless a block knows better."""
        return cls.inline

    @classmethod
    def input_schema(cls) -> dict[str, Any]:
        """The input JSON schema. Shared and cached (schemas are costly to build): copy it
        before changing it."""
        return _json_schema(cls.Input)

    @classmethod
    def output_schema(cls) -> dict[str, Any]:
        return _json_schema(cls.Output)

    @classmethod
    def input_pins(cls) -> dict[str, dict[str, Any]]:
        return cls.input_schema().get("properties", {})

    @classmethod
    def output_pins(cls) -> dict[str, dict[str, Any]]:
        return cls.output_schema().get("properties", {})

    @classmethod
    def required_inputs(cls) -> set[str]:
        return set(cls.input_schema().get("required", []))

    @classmethod
    def run_input_name(cls, input_default: Mapping[str, Any]) -> str | None:
        """An Input or Webhook node's key in a run's inputs: its `name`, else the block's default
        name; None when it has neither (validation reports the missing name)."""
        field = cls.Input.model_fields.get("name")
        name = input_default.get("name") or (field.default if field else None)
        return name if isinstance(name, str) and name else None

    @classmethod
    def secret_inputs(cls) -> set[str]:
        return {name for name, pin in cls.input_pins().items() if pin.get("secret")}

    def parse_input(self, data: Mapping[str, Any]) -> BlockSchema:
        try:
            return self.Input.model_validate(dict(data))
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                pin = ".".join(str(part) for part in error["loc"]) or "input"
                errors.setdefault(pin, error["msg"])
            raise BlockInputError(errors) from None

    def default_errors(self, data: Mapping[str, Any]) -> dict[str, str]:
        """Errors of the values a node fixes on its pins (`input_default`), checked at save: a
        pin that is missing here may still arrive by a link or a run input, so only the given
        pins are judged."""
        try:
            self.Input.model_validate(dict(data))
        except ValidationError as exc:
            errors: dict[str, str] = {}
            for error in exc.errors():
                if error["type"] == "missing" or not error["loc"] or error["loc"][0] not in data:
                    continue
                errors.setdefault(str(error["loc"][0]), error["msg"])
            return errors
        return {}

    def execute(self, data: Mapping[str, Any], context: BlockContext) -> Iterator[tuple[str, Any]]:
        """Validate `data`, then yield what `run` yields; an undeclared pin is a bug."""
        parsed = self.parse_input(data)
        pins = self.Output.model_fields
        for pin, value in self.run(parsed, context):
            if pin not in pins:
                raise RuntimeError(f"block {self.name} yielded undeclared pin {pin!r}")
            yield pin, value
