import { describe, expect, it } from "vitest";
import { diffVersions } from "./diff";
import type { GraphDoc } from "./graph";

const names: Record<string, string> = { tpl: "Fill Text Template", in: "Agent Input", out: "Agent Output" };
const nameOf = (id: string) => names[id] ?? id;

describe("version diff", () => {
  it("lists nodes and links added, removed and changed; moves are not changes", () => {
    const older: GraphDoc = {
      nodes: [
        { id: "i", block_id: "in", input_default: { name: "topic" }, metadata: { position: { x: 0, y: 0 } } },
        { id: "t", block_id: "tpl", label: "Greet", input_default: { format: "Hi" } },
        { id: "o", block_id: "out", input_default: { name: "x" } },
      ],
      links: [{ source_id: "i", source_name: "result", sink_id: "t", sink_name: "values_#_topic", is_static: false }],
    };
    const newer: GraphDoc = {
      nodes: [
        { id: "i", block_id: "in", input_default: { name: "topic" }, metadata: { position: { x: 99, y: 9 } } },
        { id: "t", block_id: "tpl", label: "Greet", input_default: { format: "Bye" } },
        { id: "n", block_id: "out", input_default: { name: "y" } },
      ],
      links: [{ source_id: "t", source_name: "output", sink_id: "n", sink_name: "value", is_static: false }],
    };
    expect(diffVersions(older, newer, nameOf)).toEqual({
      nodesAdded: ["Agent Output"],
      nodesRemoved: ["Agent Output"],
      nodesChanged: ["Greet (Fill Text Template)"],
      linksAdded: ["Greet.output → Agent Output.value"],
      linksRemoved: ["Agent Input.result → Greet.values_#_topic"],
    });
  });

  it("finds nothing between equal versions whatever the key order", () => {
    const a: GraphDoc = { nodes: [{ id: "t", block_id: "tpl", input_default: { a: 1, b: { c: 2, d: 3 } } }], links: [] };
    const b: GraphDoc = { nodes: [{ id: "t", block_id: "tpl", input_default: { b: { d: 3, c: 2 }, a: 1 } }], links: [] };
    expect(Object.values(diffVersions(a, b, nameOf)).flat()).toEqual([]);
  });
});
