// Pins: what a block's JSON schemas say about its inputs and outputs, dynamic pins, and whether
// a link between two pins is allowed. The rules mirror apps/graphs/validation.py so the canvas
// refuses what the server would refuse, with the same reason; the server still decides on save.
import type { Block, PinSchema } from "../api/types";

export const DICT_SEPARATOR = "_#_";
export const LIST_SEPARATOR = "_$_";
export const ATTR_SEPARATOR = "_@_";

export interface DynamicPin {
  base: string;
  separator: string | null;
  key: string | null;
}

/** `values_#_topic` → {base: "values", separator: "_#_", key: "topic"}. */
export function splitDynamicPin(name: string): DynamicPin {
  let best: DynamicPin = { base: name, separator: null, key: null };
  let bestAt = Infinity;
  for (const separator of [DICT_SEPARATOR, LIST_SEPARATOR, ATTR_SEPARATOR]) {
    const at = name.indexOf(separator);
    if (at >= 0 && at < bestAt) {
      bestAt = at;
      best = { base: name.slice(0, at), separator, key: name.slice(at + separator.length) };
    }
  }
  return best;
}

export function inputPins(block: Block): Record<string, PinSchema> {
  return ((block.input_schema as PinSchema).properties ?? {}) as Record<string, PinSchema>;
}

export function outputPins(block: Block): Record<string, PinSchema> {
  return ((block.output_schema as PinSchema).properties ?? {}) as Record<string, PinSchema>;
}

export function requiredInputs(block: Block): Set<string> {
  return new Set((block.input_schema as PinSchema).required ?? []);
}

/** JSON-schema types a pin accepts; {"any"} when unconstrained. */
export function pinTypes(schema: PinSchema | undefined): Set<string> {
  if (!schema) return new Set(["any"]);
  if (schema.type !== undefined) {
    return new Set(Array.isArray(schema.type) ? schema.type : [schema.type]);
  }
  for (const options of [schema.anyOf, schema.oneOf]) {
    if (options) {
      const found = new Set<string>();
      for (const option of options) pinTypes(option).forEach((kind) => found.add(kind));
      return found;
    }
  }
  return new Set(["any"]);
}

/** A short type name for a pin label: "string", "number?", "any". */
export function typeLabel(schema: PinSchema | undefined): string {
  const kinds = pinTypes(schema);
  const nullable = kinds.delete("null") && kinds.size > 0;
  const name = [...kinds].sort().join("|") || "null";
  return nullable ? `${name}?` : name;
}

export function compatible(source: Set<string>, sink: Set<string>): boolean {
  if (source.has("any") || sink.has("any")) return true;
  for (const produced of source) {
    if (produced === "null") continue;
    for (const accepted of sink) {
      if (produced === accepted) return true;
      if (produced === "integer" && accepted === "number") return true;
      // Scalars are rendered to text where text is expected (a number into a prompt).
      if (accepted === "string" && ["number", "integer", "boolean"].includes(produced)) return true;
    }
  }
  return [...source].every((kind) => kind === "null");
}

/** The schema a value on input `pin` must satisfy, or the reason the pin does not exist. */
export function sinkPinSchema(block: Block, pin: string): { schema?: PinSchema; problem?: string } {
  const pins = inputPins(block);
  const { base, separator } = splitDynamicPin(pin);
  const schema = pins[base];
  if (!schema) return { problem: `${block.name} has no input pin named '${base}'` };
  if (separator === null) return { schema };
  const kinds = pinTypes(schema);
  if (separator === LIST_SEPARATOR) {
    if (!kinds.has("array") && !kinds.has("any")) {
      return { problem: `pin '${base}' of ${block.name} is not a list` };
    }
    return { schema: schema.items ?? {} };
  }
  if (separator === DICT_SEPARATOR) {
    if (!kinds.has("object") && !kinds.has("any")) {
      return { problem: `pin '${base}' of ${block.name} is not a dictionary` };
    }
    const extra = schema.additionalProperties;
    return { schema: typeof extra === "object" ? extra : {} };
  }
  if (!kinds.has("object") && !kinds.has("any")) {
    return { problem: `pin '${base}' of ${block.name} does not take attributes` };
  }
  return { schema: {} };
}

export function sourcePinSchema(
  block: Block,
  pin: string,
): { schema?: PinSchema; problem?: string } {
  const { base, separator } = splitDynamicPin(pin);
  const schema = outputPins(block)[base];
  if (!schema) return { problem: `${block.name} has no output pin named '${base}'` };
  // A part picked out of an output (`response_#_id`) can be of any type.
  return { schema: separator === null ? schema : {} };
}

// An AI Agent's `tools` output linked to a node's `tool` end makes that node one of its tools
// (SPEC §15); `tool` is a link end, not an input pin, and takes nothing else.
export const TOOLS_PIN = "tools";
export const TOOL_END = "tool";

/** Whether a node of this block may be offered as a tool (the server decides the rest). */
export function canBeTool(block: Block): boolean {
  return (block.block_type === "standard" || block.block_type === "agent") && !(TOOLS_PIN in outputPins(block));
}

/** Why a link from source.pin to sink.pin is refused, or null when it is allowed. */
export function linkProblem(
  source: Block,
  sourcePin: string,
  sink: Block,
  sinkPin: string,
): string | null {
  if (sinkPin === TOOL_END || (sourcePin === TOOLS_PIN && !(TOOLS_PIN in inputPins(sink)))) {
    if (sourcePin !== TOOLS_PIN || sinkPin !== TOOL_END) {
      return `only an AI Agent's ${TOOLS_PIN} pin links to a node's ${TOOL_END} end`;
    }
    return canBeTool(sink) ? null : `${sink.name} cannot be a tool`;
  }
  const from = sourcePinSchema(source, sourcePin);
  if (from.problem) return from.problem;
  const to = sinkPinSchema(sink, sinkPin);
  if (to.problem) return to.problem;
  const produced = pinTypes(from.schema);
  const accepted = pinTypes(to.schema);
  if (compatible(produced, accepted)) return null;
  return (
    `type mismatch: ${source.name}.${sourcePin} gives ${[...produced].sort().join("/")}, ` +
    `${sinkPin} takes ${[...accepted].sort().join("/")}`
  );
}

/** Whether an input pin takes named (`_#_`) or numbered (`_$_`) dynamic pins. */
export function dynamicKind(schema: PinSchema): "dict" | "list" | null {
  const kinds = pinTypes(schema);
  if (kinds.has("object") && schema.additionalProperties !== false && !schema.properties) {
    return "dict";
  }
  if (kinds.has("array")) return "list";
  return null;
}

/** The name of a new dynamic pin on `base`: a key for a dict, the next free index for a list. */
export function dynamicPinName(
  base: string,
  kind: "dict" | "list",
  existing: string[],
  key?: string,
): string | null {
  if (kind === "dict") {
    const clean = (key ?? "").trim();
    if (!clean) return null;
    const name = `${base}${DICT_SEPARATOR}${clean}`;
    return existing.includes(name) ? null : name;
  }
  let index = 0;
  while (existing.includes(`${base}${LIST_SEPARATOR}${index}`)) index += 1;
  return `${base}${LIST_SEPARATOR}${index}`;
}
