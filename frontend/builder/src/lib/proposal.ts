// A graph the chat's copilot proposed (SPEC §18), as the builder opens it: on the canvas,
// unsaved, to be saved by the user's click as a new agent, or as a new version of the agent it
// changes.
import type { CopilotProposal } from "../api/types";
import type { GraphDoc } from "./graph";

export interface OpenedProposal {
  doc: GraphDoc;
  name: string;
  description: string;
  /** The agent whose new version it is; null: it saves as a new agent. */
  graphId: string | null;
}

export function openProposal(proposal: CopilotProposal): OpenedProposal {
  return {
    doc: {
      nodes: proposal.nodes.map((node) => ({
        ...node,
        label: node.label ?? "",
        input_default: node.input_default ?? {},
        metadata: node.metadata ?? {},
      })),
      links: proposal.links.map((link) => ({ ...link })),
    },
    name: proposal.name,
    description: proposal.description ?? "",
    graphId: proposal.base_graph_id,
  };
}
