// The canvas model and the graph JSON of POST /api/graphs: one converts into the other without
// losing anything (unknown blocks, metadata and dynamic pins included), so what the builder
// saves is exactly the format the API and the importer take.
import type { Edge, Node } from "@xyflow/react";
import type { Block, LinkIn, NodeIn } from "../api/types";
import { inputPins, splitDynamicPin } from "./pins";

export const NOTE_BLOCK_TYPE = "note";

export interface RunOverlay {
  status: string;
  count: number;
  lastOutput: string;
}

export type NodeData = {
  blockId: string;
  label: string;
  inputDefault: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Dynamic pins added by name that carry neither a value nor a link yet. */
  extraPins: string[];
  errors: Record<string, string>;
  run?: RunOverlay;
};

export type FlowNode = Node<NodeData>;
export type EdgeData = { isStatic: boolean };
export type FlowEdge = Edge<EdgeData>;

export interface GraphDoc {
  name?: string;
  description?: string;
  nodes: NodeIn[];
  links: LinkIn[];
}

export function nodeType(block: Block | undefined): "block" | "note" | "unknown" {
  if (!block) return "unknown";
  return block.block_type === NOTE_BLOCK_TYPE ? "note" : "block";
}

export function edgeId(link: LinkIn): string {
  return `${link.source_id}:${link.source_name}->${link.sink_id}:${link.sink_name}`;
}

export function newNodeId(taken: Set<string>): string {
  for (;;) {
    const id = `n-${Math.random().toString(36).slice(2, 10)}`;
    if (!taken.has(id)) return id;
  }
}

function positionOf(metadata: Record<string, unknown> | undefined): { x: number; y: number } | null {
  const position = metadata?.position as { x?: unknown; y?: unknown } | undefined;
  if (position && typeof position.x === "number" && typeof position.y === "number") {
    return { x: position.x, y: position.y };
  }
  return null;
}

export function linkToEdge(link: LinkIn): FlowEdge {
  return {
    id: edgeId(link),
    source: link.source_id,
    sourceHandle: link.source_name,
    target: link.sink_id,
    targetHandle: link.sink_name,
    data: { isStatic: Boolean(link.is_static) },
    className: link.is_static ? "static" : undefined,
    label: link.is_static ? "static" : undefined,
  };
}

/** Graph JSON → canvas. `positioned` is false when some node had no saved position. */
export function docToCanvas(
  doc: GraphDoc,
  blocks: Map<string, Block>,
): { nodes: FlowNode[]; edges: FlowEdge[]; positioned: boolean } {
  let positioned = true;
  const nodes = doc.nodes.map((node, index): FlowNode => {
    const { position, ...metadata } = (node.metadata ?? {}) as Record<string, unknown>;
    const at = positionOf({ position });
    if (!at) positioned = false;
    return {
      id: node.id ?? `n-${index}`,
      type: nodeType(blocks.get(node.block_id)),
      position: at ?? { x: index * 320, y: 0 },
      data: {
        blockId: node.block_id,
        label: node.label ?? "",
        inputDefault: { ...(node.input_default ?? {}) },
        metadata,
        extraPins: [],
        errors: {},
      },
    };
  });
  return { nodes, edges: doc.links.map(linkToEdge), positioned };
}

/** Canvas → graph JSON (the body of POST /api/graphs without name and description). */
export function canvasToDoc(nodes: FlowNode[], edges: FlowEdge[]): GraphDoc {
  return {
    nodes: nodes.map((node) => ({
      id: node.id,
      block_id: node.data.blockId,
      label: node.data.label,
      input_default: node.data.inputDefault,
      metadata: {
        ...node.data.metadata,
        position: { x: Math.round(node.position.x), y: Math.round(node.position.y) },
      },
    })),
    links: edges.map((edge) => ({
      source_id: edge.source,
      source_name: edge.sourceHandle ?? "",
      sink_id: edge.target,
      sink_name: edge.targetHandle ?? "",
      is_static: Boolean(edge.data?.isStatic),
    })),
  };
}

/** Every dynamic input pin a node shows: from its values, its links and those added by name. */
export function dynamicPinsOf(node: FlowNode, edges: FlowEdge[]): string[] {
  const names = new Set<string>(node.data.extraPins);
  for (const name of Object.keys(node.data.inputDefault)) {
    if (splitDynamicPin(name).separator) names.add(name);
  }
  for (const edge of edges) {
    if (edge.target === node.id && edge.targetHandle && splitDynamicPin(edge.targetHandle).separator) {
      names.add(edge.targetHandle);
    }
  }
  return [...names].sort();
}

export type ParsedGraph = { ok: true; doc: GraphDoc } | { ok: false; error: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Text (a pasted clipboard, an imported file) → a graph document, or why it is not one. */
export function parseGraphText(text: string): ParsedGraph {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, error: "This is not a graph: the text is not JSON." };
  }
  if (!isObject(value) || !Array.isArray(value.nodes)) {
    return { ok: false, error: "This is not a graph: it has no list of nodes." };
  }
  const nodes: NodeIn[] = [];
  for (const [index, node] of value.nodes.entries()) {
    if (!isObject(node) || typeof node.block_id !== "string" || !node.block_id) {
      return { ok: false, error: `This is not a graph: node ${index + 1} has no block_id.` };
    }
    if (node.input_default !== undefined && !isObject(node.input_default)) {
      return { ok: false, error: `This is not a graph: node ${index + 1}'s input_default is not an object.` };
    }
    nodes.push({
      id: typeof node.id === "string" && node.id ? node.id : `n-${index}`,
      block_id: node.block_id,
      label: typeof node.label === "string" ? node.label : "",
      input_default: (node.input_default as Record<string, unknown>) ?? {},
      metadata: isObject(node.metadata) ? node.metadata : {},
    });
  }
  const links: LinkIn[] = [];
  const rawLinks = value.links ?? [];
  if (!Array.isArray(rawLinks)) return { ok: false, error: "This is not a graph: links is not a list." };
  for (const [index, link] of rawLinks.entries()) {
    const fields = ["source_id", "source_name", "sink_id", "sink_name"] as const;
    if (!isObject(link) || fields.some((field) => typeof link[field] !== "string")) {
      return { ok: false, error: `This is not a graph: link ${index + 1} lacks its ends.` };
    }
    links.push({
      source_id: link.source_id as string,
      source_name: link.source_name as string,
      sink_id: link.sink_id as string,
      sink_name: link.sink_name as string,
      is_static: Boolean(link.is_static),
    });
  }
  return {
    ok: true,
    doc: {
      name: typeof value.name === "string" ? value.name : undefined,
      description: typeof value.description === "string" ? value.description : undefined,
      nodes,
      links,
    },
  };
}

/** A copied fragment, given fresh ids (so it can be pasted next to its original, or into
 * another agent) and moved by `offset`; links to nodes outside the fragment are dropped. */
export function rekeyFragment(
  doc: GraphDoc,
  taken: Set<string>,
  offset: { x: number; y: number },
): GraphDoc {
  const ids = new Map<string, string>();
  const used = new Set(taken);
  const nodes = doc.nodes.map((node) => {
    const id = newNodeId(used);
    used.add(id);
    ids.set(node.id ?? "", id);
    const at = positionOf(node.metadata as Record<string, unknown>) ?? { x: 0, y: 0 };
    return {
      ...node,
      id,
      metadata: { ...(node.metadata ?? {}), position: { x: at.x + offset.x, y: at.y + offset.y } },
    };
  });
  const links = doc.links
    .filter((link) => ids.has(link.source_id) && ids.has(link.sink_id))
    .map((link) => ({ ...link, source_id: ids.get(link.source_id)!, sink_id: ids.get(link.sink_id)! }));
  return { nodes, links };
}

/** Server errors (`node_errors`) spread onto the nodes; the rest (`graph`, unknown nodes) are
 * returned as banner lines. */
export function applyNodeErrors(
  nodes: FlowNode[],
  nodeErrors: Record<string, Record<string, string>>,
): { nodes: FlowNode[]; banner: string[] } {
  const ids = new Set(nodes.map((node) => node.id));
  const banner: string[] = [];
  for (const [key, fields] of Object.entries(nodeErrors)) {
    if (!ids.has(key)) {
      for (const [field, message] of Object.entries(fields)) {
        banner.push(key === "graph" ? `${field}: ${message}` : `${key}.${field}: ${message}`);
      }
    }
  }
  return {
    nodes: nodes.map((node) => ({ ...node, data: { ...node.data, errors: nodeErrors[node.id] ?? {} } })),
    banner,
  };
}

/** The document without secret pins' values, as the server's export does: what leaves the
 * builder (an exported file, the clipboard) never carries a key. */
export function withoutSecrets(doc: GraphDoc, blocks: Map<string, Block>): GraphDoc {
  return {
    ...doc,
    nodes: doc.nodes.map((node) => {
      const block = blocks.get(node.block_id);
      if (!block) return node;
      const pins = inputPins(block);
      const kept = Object.entries(node.input_default ?? {}).filter(
        ([name]) => !pins[splitDynamicPin(name).base]?.secret,
      );
      return { ...node, input_default: Object.fromEntries(kept) };
    }),
  };
}
