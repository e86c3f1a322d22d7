import { describe, expect, it } from "vitest";
import { AGENT, INPUT, NUMBERS, TEMPLATE } from "./fixtures";
import { compatible, dynamicKind, dynamicPinName, linkProblem, pinTypes, splitDynamicPin, typeLabel } from "./pins";

describe("pin types", () => {
  it("reads types from type, anyOf and nothing", () => {
    expect([...pinTypes({ type: "string" })]).toEqual(["string"]);
    expect([...pinTypes({ anyOf: [{ type: "integer" }, { type: "null" }] })].sort()).toEqual(["integer", "null"]);
    expect([...pinTypes({})]).toEqual(["any"]);
    expect(typeLabel({ anyOf: [{ type: "integer" }, { type: "null" }] })).toBe("integer?");
  });

  it("accepts what the server accepts", () => {
    const types = (...kinds: string[]) => new Set(kinds);
    expect(compatible(types("integer"), types("number"))).toBe(true);
    expect(compatible(types("number"), types("string"))).toBe(true);
    expect(compatible(types("any"), types("array"))).toBe(true);
    expect(compatible(types("string"), types("number"))).toBe(false);
    expect(compatible(types("object"), types("array"))).toBe(false);
    expect(compatible(types("null"), types("number"))).toBe(true);
  });
});

describe("links", () => {
  it("refuses incompatible pins with the server's reason", () => {
    expect(linkProblem(TEMPLATE, "output", NUMBERS, "a")).toBe(
      "type mismatch: Fill Text Template.output gives string, a takes number",
    );
    expect(linkProblem(NUMBERS, "parts", NUMBERS, "items")).toMatch(/gives object, items takes array/);
  });

  it("allows compatible and untyped pins and dynamic pins", () => {
    expect(linkProblem(NUMBERS, "result", TEMPLATE, "format")).toBeNull();
    expect(linkProblem(INPUT, "result", NUMBERS, "a")).toBeNull();
    expect(linkProblem(TEMPLATE, "output", TEMPLATE, "values_#_topic")).toBeNull();
    expect(linkProblem(INPUT, "result", NUMBERS, "items_$_0")).toBeNull();
    // A list item is typed by the list's `items`: a number is not an integer.
    expect(linkProblem(NUMBERS, "result", NUMBERS, "items_$_0")).toBe(
      "type mismatch: Add.result gives number, items_$_0 takes integer",
    );
  });

  it("links an AI Agent's tools pin to a node's tool end, and nothing else there", () => {
    expect(linkProblem(AGENT, "tools", NUMBERS, "tool")).toBeNull();
    expect(linkProblem(AGENT, "tools", NUMBERS, "a")).toBe("only an AI Agent's tools pin links to a node's tool end");
    expect(linkProblem(TEMPLATE, "output", NUMBERS, "tool")).toBe(
      "only an AI Agent's tools pin links to a node's tool end",
    );
    expect(linkProblem(AGENT, "tools", INPUT, "tool")).toBe("Agent Input cannot be a tool");
    expect(linkProblem(AGENT, "tools", AGENT, "tool")).toBe("AI Agent cannot be a tool");
  });

  it("names a pin that does not exist", () => {
    expect(linkProblem(TEMPLATE, "nope", NUMBERS, "a")).toBe("Fill Text Template has no output pin named 'nope'");
    expect(linkProblem(TEMPLATE, "output", NUMBERS, "a_#_x")).toBe("pin 'a' of Add is not a dictionary");
  });
});

describe("dynamic pins", () => {
  it("splits names at the first separator", () => {
    expect(splitDynamicPin("values_#_topic")).toEqual({ base: "values", separator: "_#_", key: "topic" });
    expect(splitDynamicPin("items_$_2")).toEqual({ base: "items", separator: "_$_", key: "2" });
    expect(splitDynamicPin("plain")).toEqual({ base: "plain", separator: null, key: null });
  });

  it("adds named keys once and numbers list items in order", () => {
    expect(dynamicKind({ type: "object", additionalProperties: true })).toBe("dict");
    expect(dynamicKind({ type: "array" })).toBe("list");
    expect(dynamicKind({ type: "string" })).toBeNull();
    expect(dynamicPinName("values", "dict", [], " topic ")).toBe("values_#_topic");
    expect(dynamicPinName("values", "dict", ["values_#_topic"], "topic")).toBeNull();
    expect(dynamicPinName("values", "dict", [], "  ")).toBeNull();
    expect(dynamicPinName("items", "list", ["items_$_0", "items_$_1"])).toBe("items_$_2");
  });
});
