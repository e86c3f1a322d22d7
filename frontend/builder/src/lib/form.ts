// Forms generated from a block's input JSON Schema (SPEC §14): which control each pin gets and
// how the text typed into it becomes the value saved in `input_default`.
import type { PinSchema } from "../api/types";
import { pinTypes } from "./pins";

export type FieldKind =
  | "text"
  | "textarea"
  | "number"
  | "integer"
  | "switch"
  | "select"
  | "json"
  | "password"
  | "any";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  label: string;
  description: string;
  required: boolean;
  advanced: boolean;
  placeholder: string;
  choices: { label: string; value: unknown }[];
  /** Values offered for a text field that still takes others (a block's `options`). */
  suggestions: { label: string; value: unknown }[];
  /** "object" or "array" for JSON fields: what the typed JSON must be. */
  jsonType: "object" | "array" | null;
  nullable: boolean;
}

// Pins whose text is long by nature get a textarea.
const LONG_TEXT = /prompt|format|template|text|body|content|message|description|code/i;

function choicesOf(schema: PinSchema): { label: string; value: unknown }[] {
  const options = schema.anyOf ?? schema.oneOf;
  const values = schema.enum ?? options?.find((option) => option.enum)?.enum;
  if (values) return values.map((value) => ({ label: String(value), value }));
  return [];
}

/** A pin's schema with a local `$ref` (pydantic puts enums in `$defs`) replaced by what it
 * refers to; the pin's own keys (default, description...) win. */
export function resolveRef(schema: PinSchema, root: PinSchema & { $defs?: Record<string, PinSchema> }): PinSchema {
  const ref = schema.$ref;
  if (!ref || !ref.startsWith("#/$defs/")) return schema;
  const target = root.$defs?.[ref.slice("#/$defs/".length)];
  if (!target) return schema;
  const { $ref: _ignored, ...own } = schema;
  void _ignored;
  return { ...target, ...own };
}

function placeholderOf(value: unknown): string {
  if (value === undefined || value === null || value === "") return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

export function fieldFor(name: string, schema: PinSchema, required: boolean): FieldSpec {
  const kinds = pinTypes(schema);
  const nullable = kinds.delete("null");
  const choices = choicesOf(schema);
  let kind: FieldKind;
  let jsonType: FieldSpec["jsonType"] = null;
  if (schema.secret) kind = "password";
  else if (choices.length) kind = "select";
  else if (kinds.has("object") || kinds.has("array")) {
    kind = "json";
    jsonType = kinds.has("object") ? "object" : "array";
  } else if (kinds.size === 1 && kinds.has("boolean")) kind = "switch";
  else if (kinds.size === 1 && kinds.has("integer")) kind = "integer";
  else if (kinds.size === 1 && kinds.has("number")) kind = "number";
  else if (kinds.size === 1 && kinds.has("string")) kind = LONG_TEXT.test(name) ? "textarea" : "text";
  else kind = "any";
  return {
    name,
    kind,
    label: schema.title ?? name,
    description: schema.description ?? "",
    required,
    advanced: Boolean(schema.advanced),
    placeholder: schema.placeholder ?? placeholderOf(schema.default),
    choices,
    suggestions: (schema.options ?? []).map((option) => ({ label: option.label ?? String(option.value), value: option.value })),
    jsonType,
    nullable,
  };
}

export type Parsed = { ok: true; value: unknown; unset?: boolean } | { ok: false; error: string };

/** The text of a field → the value to store; an empty optional field is left unset. */
export function parseField(field: FieldSpec, text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === "" && field.kind !== "text" && field.kind !== "textarea" && field.kind !== "password") {
    return { ok: true, value: undefined, unset: true };
  }
  switch (field.kind) {
    case "number":
    case "integer": {
      const value = Number(trimmed);
      if (!Number.isFinite(value)) return { ok: false, error: "a number is expected" };
      if (field.kind === "integer" && !Number.isInteger(value)) {
        return { ok: false, error: "a whole number is expected" };
      }
      return { ok: true, value };
    }
    case "json": {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch {
        return { ok: false, error: "not valid JSON" };
      }
      const isArray = Array.isArray(value);
      const isObject = value !== null && typeof value === "object" && !isArray;
      if (field.jsonType === "array" && !isArray) return { ok: false, error: "a JSON list is expected" };
      if (field.jsonType === "object" && !isObject) {
        return { ok: false, error: "a JSON object is expected" };
      }
      return { ok: true, value };
    }
    case "any": {
      // Untyped pins take JSON when the text is JSON, else the text itself.
      try {
        return { ok: true, value: JSON.parse(trimmed) };
      } catch {
        return { ok: true, value: text };
      }
    }
    default:
      if (text === "" && !field.required) return { ok: true, value: undefined, unset: true };
      return { ok: true, value: text };
  }
}

/** A stored value → the text shown in its field. */
export function fieldText(field: FieldSpec, value: unknown): string {
  if (value === undefined || value === null) return "";
  if (field.kind === "json" || (field.kind === "any" && typeof value !== "string")) {
    return JSON.stringify(value, null, 2);
  }
  return String(value);
}
