import { describe, expect, it } from "vitest";
import type { Block } from "../api/types";
import { TEMPLATE } from "./fixtures";
import { applyNodeErrors, canvasToDoc, withoutSecrets, docToCanvas, dynamicPinsOf, parseGraphText, rekeyFragment, type GraphDoc } from "./graph";

const blocks = new Map<string, Block>([[TEMPLATE.id, TEMPLATE]]);

const doc: GraphDoc = {
  nodes: [
    {
      id: "a",
      block_id: "tpl",
      label: "Greeting",
      input_default: { format: "Hi {{ who }}", "values_#_who": "you" },
      metadata: { position: { x: 10, y: 20 }, credentials_id: "c1" },
    },
    { id: "b", block_id: "elsewhere", label: "", input_default: { kept: [1, 2] }, metadata: { position: { x: 300, y: 20 } } },
  ],
  links: [{ source_id: "a", source_name: "output", sink_id: "b", sink_name: "in", is_static: true }],
};

describe("graph JSON ↔ canvas", () => {
  it("round-trips without losing anything, unknown blocks included", () => {
    const { nodes, edges, positioned } = docToCanvas(doc, blocks);
    expect(positioned).toBe(true);
    expect(nodes.map((node) => node.type)).toEqual(["block", "unknown"]);
    expect(edges[0].data?.isStatic).toBe(true);
    expect(canvasToDoc(nodes, edges)).toEqual(doc);
  });

  it("says when positions are missing, for auto-layout", () => {
    const bare = { nodes: [{ id: "x", block_id: "tpl" }], links: [] };
    expect(docToCanvas(bare, blocks).positioned).toBe(false);
  });

  it("lists dynamic pins from values, links and pins added by name", () => {
    const { nodes } = docToCanvas(doc, blocks);
    const node = { ...nodes[0], data: { ...nodes[0].data, extraPins: ["values_#_new"] } };
    const edges = [{ id: "e", source: "b", sourceHandle: "x", target: "a", targetHandle: "values_#_linked" }];
    expect(dynamicPinsOf(node, edges)).toEqual(["values_#_linked", "values_#_new", "values_#_who"]);
  });

  it("spreads node_errors on their nodes and the rest into the banner", () => {
    const { nodes } = docToCanvas(doc, blocks);
    const marked = applyNodeErrors(nodes, {
      a: { format: "required input 'format' has no default and no link" },
      graph: { "links.0": "link refers to unknown node 'z'" },
    });
    expect(marked.nodes[0].data.errors).toEqual({ format: "required input 'format' has no default and no link" });
    expect(marked.nodes[1].data.errors).toEqual({});
    expect(marked.banner).toEqual(["links.0: link refers to unknown node 'z'"]);
  });
});

describe("pasted text", () => {
  it("refuses what is not a graph, saying why", () => {
    expect(parseGraphText("hello")).toEqual({ ok: false, error: "This is not a graph: the text is not JSON." });
    expect(parseGraphText('{"name": "x"}')).toEqual({ ok: false, error: "This is not a graph: it has no list of nodes." });
    expect(parseGraphText('{"nodes": [{"label": "x"}]}')).toMatchObject({ ok: false, error: expect.stringContaining("node 1 has no block_id") });
    expect(parseGraphText('{"nodes": [], "links": [{"source_id": "a"}]}')).toMatchObject({ ok: false, error: expect.stringContaining("link 1") });
  });

  it("reads an exported graph", () => {
    const parsed = parseGraphText(JSON.stringify({ name: "Exported", ...doc }));
    expect(parsed.ok && parsed.doc.name).toBe("Exported");
    expect(parsed.ok && parsed.doc.nodes).toHaveLength(2);
  });

  it("gives a pasted fragment fresh ids, keeps its inner links and moves it", () => {
    const pasted = rekeyFragment(doc, new Set(["a", "b"]), { x: 40, y: 40 });
    const ids = pasted.nodes.map((node) => node.id);
    expect(ids).not.toContain("a");
    expect(new Set(ids).size).toBe(2);
    expect(pasted.links[0]).toMatchObject({ source_id: ids[0], sink_id: ids[1], is_static: true });
    expect(pasted.nodes[0].metadata?.position).toEqual({ x: 50, y: 60 });
    const alone = rekeyFragment({ nodes: [doc.nodes[0]], links: doc.links }, new Set(), { x: 0, y: 0 });
    expect(alone.links).toEqual([]);
  });
});

describe("what leaves the builder", () => {
  it("carries no secret pin's value", () => {
    const secretive: Block = {
      ...TEMPLATE,
      id: "sec",
      input_schema: { type: "object", properties: { token: { type: "string", secret: true }, url: { type: "string" } } },
    };
    const out = withoutSecrets(
      { nodes: [{ id: "s", block_id: "sec", input_default: { token: "sk-123", url: "https://x" } }, doc.nodes[1]], links: [] },
      new Map([["sec", secretive]]),
    );
    expect(out.nodes[0].input_default).toEqual({ url: "https://x" });
    expect(out.nodes[1]).toEqual(doc.nodes[1]);
  });
});
