import { describe, expect, it } from "vitest";
import type { Block } from "../api/types";
import { TEMPLATE } from "./fixtures";
import { canvasToDoc, docToCanvas, type NodeData } from "./graph";
import { nodeSettings, parseSetting, settingsSummary, settingText, withMetadata } from "./settings";

const RETRYING: Block = {
  ...TEMPLATE,
  id: "mail",
  name: "Send Email",
  timeout_seconds: 60,
  retry_policy: { max_attempts: 3, retriable: ["rate_limited", "server_error"] },
};

function setting(block: Block, key: string) {
  const found = nodeSettings(block).find((item) => item.key === key);
  if (!found) throw new Error(`${block.name} has no ${key}`);
  return found;
}

describe("a node's settings", () => {
  it("offers Attempts only for a block with a retry policy, Timeout for every block", () => {
    expect(nodeSettings(TEMPLATE).map((item) => item.key)).toEqual(["timeout_seconds"]);
    expect(nodeSettings(RETRYING).map((item) => [item.key, item.label, item.fallback])).toEqual([
      ["max_attempts", "Attempts", 3],
      ["timeout_seconds", "Timeout (s)", 60],
    ]);
    expect(setting(TEMPLATE, "timeout_seconds").fallback).toBe(300);
  });

  it("reads Attempts as a whole number from 1 to 10, empty for the default", () => {
    const attempts = setting(RETRYING, "max_attempts");
    expect(parseSetting(attempts, "")).toEqual({ kind: "default" });
    expect(parseSetting(attempts, "  ")).toEqual({ kind: "default" });
    expect(parseSetting(attempts, "5")).toEqual({ kind: "value", value: 5 });
    expect(parseSetting(attempts, " 10 ")).toEqual({ kind: "value", value: 10 });
    expect(parseSetting(attempts, "1")).toEqual({ kind: "value", value: 1 });
    for (const bad of ["0", "11", "2.5", "-3", "1e1", "three", "٣", "+4", "0x5"]) {
      expect(parseSetting(attempts, bad)).toEqual({
        kind: "invalid",
        error: "Attempts: a whole number from 1 to 10.",
      });
    }
  });

  it("reads a timeout as seconds above 0 and at most a day, fractions allowed", () => {
    const timeout = setting(TEMPLATE, "timeout_seconds");
    expect(parseSetting(timeout, "90")).toEqual({ kind: "value", value: 90 });
    expect(parseSetting(timeout, "0.5")).toEqual({ kind: "value", value: 0.5 });
    expect(parseSetting(timeout, "86400")).toEqual({ kind: "value", value: 86_400 });
    expect(parseSetting(timeout, "")).toEqual({ kind: "default" });
    for (const bad of ["0", "0.0", "86400.5", "86401", "-1", "1e3", "soon", "."]) {
      expect(parseSetting(timeout, bad).kind).toBe("invalid");
    }
    expect(parseSetting(timeout, "0")).toEqual({
      kind: "invalid",
      error: "Timeout (s): seconds, more than 0 and at most 86400.",
    });
  });

  it("sets a value in the metadata, removes it for the default and clears its server error", () => {
    const data: NodeData = {
      blockId: "mail",
      label: "",
      inputDefault: {},
      metadata: { credentials_id: "c1", max_attempts: 2 },
      extraPins: [],
      errors: { max_attempts: "must be at most 10", to: "required" },
    };
    const five = withMetadata(data, "max_attempts", 5);
    expect(five.metadata).toEqual({ credentials_id: "c1", max_attempts: 5 });
    expect(five.errors).toEqual({ to: "required" });
    expect(data.metadata.max_attempts).toBe(2); // not changed in place
    expect(withMetadata(five, "max_attempts", undefined).metadata).toEqual({ credentials_id: "c1" });
  });

  it("saves the settings in the node's metadata and reads them back", () => {
    const blocks = new Map([[RETRYING.id, RETRYING]]);
    const doc = {
      nodes: [
        {
          id: "n1",
          block_id: "mail",
          input_default: {},
          metadata: { position: { x: 1, y: 2 }, max_attempts: 5, timeout_seconds: 30 },
        },
      ],
      links: [],
    };
    const { nodes, edges } = docToCanvas(doc, blocks);
    expect(nodes[0].data.metadata).toEqual({ max_attempts: 5, timeout_seconds: 30 });
    nodes[0] = { ...nodes[0], data: withMetadata(nodes[0].data, "timeout_seconds", undefined) };
    expect(canvasToDoc(nodes, edges).nodes[0].metadata).toEqual({
      max_attempts: 5,
      position: { x: 1, y: 2 },
    });
  });

  it("summarises what is set, and shows stored values as text", () => {
    expect(settingsSummary(RETRYING, {})).toBe("Settings: block defaults");
    expect(settingsSummary(RETRYING, { max_attempts: 5, timeout_seconds: 30 })).toBe(
      "Settings: 5 attempts, 30 s timeout",
    );
    expect(settingsSummary(TEMPLATE, { max_attempts: 5 })).toBe("Settings: block defaults");
    expect(settingText(5)).toBe("5");
    expect(settingText(undefined)).toBe("");
    expect(settingText({})).toBe("");
  });
});
