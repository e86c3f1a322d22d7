import { describe, expect, it } from "vitest";
import { fieldFor, fieldText, parseField, resolveRef } from "./form";

describe("schema → form field", () => {
  it("maps each JSON Schema to its control", () => {
    expect(fieldFor("name", { type: "string" }, true).kind).toBe("text");
    expect(fieldFor("prompt", { type: "string" }, true).kind).toBe("textarea");
    expect(fieldFor("count", { type: "integer" }, false).kind).toBe("integer");
    expect(fieldFor("ratio", { anyOf: [{ type: "number" }, { type: "null" }] }, false).kind).toBe("number");
    expect(fieldFor("flag", { type: "boolean" }, false).kind).toBe("switch");
    expect(fieldFor("mode", { type: "string", enum: ["a", "b"] }, false).kind).toBe("select");
    expect(fieldFor("data", { type: "object" }, false)).toMatchObject({ kind: "json", jsonType: "object" });
    expect(fieldFor("list", { type: "array" }, false)).toMatchObject({ kind: "json", jsonType: "array" });
    expect(fieldFor("key", { type: "string", secret: true }, false).kind).toBe("password");
    expect(fieldFor("value", {}, false).kind).toBe("any");
  });

  it("keeps labels, advanced folding and choices from the schema", () => {
    const field = fieldFor("mode", { title: "Mode", advanced: true, enum: ["fast", "slow"], default: "fast" }, false);
    expect(field).toMatchObject({ label: "Mode", advanced: true, placeholder: "fast" });
    expect(field.choices.map((choice) => choice.value)).toEqual(["fast", "slow"]);
    expect(fieldFor("values", { type: "object", default: {} }, false).placeholder).toBe("{}");
  });
});

describe("typed text → value", () => {
  it("parses numbers and refuses what is not one", () => {
    const integer = fieldFor("n", { type: "integer" }, true);
    expect(parseField(integer, "42")).toEqual({ ok: true, value: 42 });
    expect(parseField(integer, "4.5")).toEqual({ ok: false, error: "a whole number is expected" });
    expect(parseField(fieldFor("x", { type: "number" }, true), "abc")).toEqual({ ok: false, error: "a number is expected" });
    expect(parseField(integer, "")).toMatchObject({ ok: true, unset: true });
  });

  it("validates JSON fields as typed", () => {
    const object = fieldFor("data", { type: "object" }, false);
    expect(parseField(object, '{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseField(object, "[1]")).toEqual({ ok: false, error: "a JSON object is expected" });
    expect(parseField(object, "{oops")).toEqual({ ok: false, error: "not valid JSON" });
    expect(parseField(fieldFor("l", { type: "array" }, false), "{}")).toEqual({ ok: false, error: "a JSON list is expected" });
  });

  it("takes JSON or text on untyped pins and shows values back", () => {
    const any = fieldFor("value", {}, false);
    expect(parseField(any, "42")).toEqual({ ok: true, value: 42 });
    expect(parseField(any, "otters")).toEqual({ ok: true, value: "otters" });
    expect(fieldText(fieldFor("data", { type: "object" }, false), { a: 1 })).toBe('{\n  "a": 1\n}');
    expect(fieldText(fieldFor("name", { type: "string" }, true), undefined)).toBe("");
  });
});

describe("schema details", () => {
  it("resolves enums that pydantic keeps in $defs", () => {
    const root = { $defs: { Operation: { enum: ["add", "subtract"], type: "string", title: "Operation" } } };
    const pin = resolveRef({ $ref: "#/$defs/Operation", default: "add", description: "What to compute." }, root);
    expect(pin).toMatchObject({ enum: ["add", "subtract"], default: "add", description: "What to compute." });
    expect(fieldFor("operation", pin, false).kind).toBe("select");
    expect(resolveRef({ $ref: "#/$defs/Missing" }, root)).toEqual({ $ref: "#/$defs/Missing" });
  });

  it("offers a block's options on a text field that takes other values too", () => {
    const field = fieldFor("model", { type: "string", options: [{ label: "GPT-4o mini", value: "gpt-4o-mini" }] }, false);
    expect(field.kind).toBe("text");
    expect(field.suggestions).toEqual([{ label: "GPT-4o mini", value: "gpt-4o-mini" }]);
  });
});
