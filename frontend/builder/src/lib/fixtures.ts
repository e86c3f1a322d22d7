// Blocks shaped as GET /api/blocks returns them, for the unit tests.
import type { Block } from "../api/types";

function block(id: string, name: string, input: object, output: object, extra: Partial<Block> = {}): Block {
  return {
    id,
    name,
    description: `${name} block`,
    categories: ["BASIC"],
    block_type: "standard",
    input_schema: { type: "object", ...input },
    output_schema: { type: "object", ...output },
    costs: [],
    static_output: false,
    timeout_seconds: 300,
    credentials_provider: null,
    credential_types: [],
    retry_policy: null,
    ...extra,
  };
}

const ERROR = { error: { type: "string" } };

export const TEMPLATE = block(
  "tpl",
  "Fill Text Template",
  {
    properties: {
      format: { type: "string", placeholder: "Hello {{ name }}!" },
      values: { type: "object", additionalProperties: true, default: {} },
    },
    required: ["format"],
  },
  { properties: { ...ERROR, output: { type: "string" } } },
);

export const NUMBERS = block(
  "num",
  "Add",
  {
    properties: {
      a: { type: "number" },
      items: { type: "array", items: { type: "integer" } },
      flag: { type: "boolean" },
    },
    required: ["a"],
  },
  { properties: { ...ERROR, result: { type: "number" }, parts: { type: "object" } } },
);

export const INPUT = block(
  "in",
  "Agent Input",
  { properties: { name: { type: "string" }, value: { default: null } }, required: ["name"] },
  { properties: { ...ERROR, result: {} } },
  { block_type: "input" },
);

export const AGENT = block(
  "agent",
  "AI Agent",
  { properties: { prompt: { type: "string" } }, required: ["prompt"] },
  { properties: { ...ERROR, finished: { type: "string" }, tools: {} } },
  { categories: ["AI"] },
);
