import { describe, expect, it } from "vitest";
import type { Block, CopilotProposal } from "../api/types";
import { TEMPLATE } from "./fixtures";
import { docToCanvas } from "./graph";
import { openProposal } from "./proposal";

const proposal: CopilotProposal = {
  id: "p1",
  session_id: "s1",
  message_id: "m1",
  name: "Morning feed digest",
  description: "Reads the feed and mails a summary.",
  nodes: [
    { id: "digest", block_id: "tpl", input_default: { format: "{{ entries }}" } },
    { id: "mail", block_id: "tpl", label: "Mail", input_default: {}, metadata: { credentials_id: "c1" } },
  ],
  links: [{ source_id: "digest", source_name: "output", sink_id: "mail", sink_name: "values_#_body", is_static: false }],
  base_graph_id: null,
  status: "draft",
  saved_graph_id: null,
  saved_version: null,
  created_at: "2026-12-04T08:00:00Z",
};

describe("a copilot proposal in the builder", () => {
  it("opens as an unsaved new agent with every node and link on the canvas", () => {
    const opened = openProposal(proposal);
    expect(opened.name).toBe("Morning feed digest");
    expect(opened.graphId).toBeNull();
    const { nodes, edges, positioned } = docToCanvas(opened.doc, new Map<string, Block>([[TEMPLATE.id, TEMPLATE]]));
    expect(nodes.map((node) => node.id)).toEqual(["digest", "mail"]);
    expect(positioned).toBe(false); // the copilot gives no positions: the builder lays it out
    expect(edges).toHaveLength(1);
    expect(edges[0].source).toBe("digest");
    expect(edges[0].data?.isStatic).toBe(false);
    expect(opened.doc.nodes[1].metadata).toEqual({ credentials_id: "c1" });
  });

  it("saves as a new version of the agent it changes", () => {
    expect(openProposal({ ...proposal, base_graph_id: "g1" }).graphId).toBe("g1");
  });
});
