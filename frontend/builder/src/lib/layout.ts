// Auto-layout with dagre (a maintained layered-graph layout): left to right, as data flows.
import dagre from "@dagrejs/dagre";
import type { FlowEdge, FlowNode } from "./graph";

const DEFAULT_WIDTH = 300;
const DEFAULT_HEIGHT = 220;

export function autoLayout(nodes: FlowNode[], edges: FlowEdge[]): FlowNode[] {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 40, ranksep: 90 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) {
    graph.setNode(node.id, {
      width: node.measured?.width ?? DEFAULT_WIDTH,
      height: node.measured?.height ?? DEFAULT_HEIGHT,
    });
  }
  for (const edge of edges) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  return nodes.map((node) => {
    const placed = graph.node(node.id);
    // dagre gives centres; React Flow positions are top-left corners.
    return {
      ...node,
      position: { x: placed.x - placed.width / 2, y: placed.y - placed.height / 2 },
    };
  });
}
