// What changed between two versions of a graph: nodes and links added, removed and changed.
// Node ids are the builder's own and survive saves, so a node is the same node across versions.
import type { GraphDoc } from "./graph";
import { edgeId } from "./graph";

export interface VersionDiff {
  nodesAdded: string[];
  nodesRemoved: string[];
  nodesChanged: string[];
  linksAdded: string[];
  linksRemoved: string[];
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stable(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function diffVersions(
  older: GraphDoc,
  newer: GraphDoc,
  nameOf: (blockId: string) => string,
): VersionDiff {
  const describe = (node: GraphDoc["nodes"][number]) =>
    node.label ? `${node.label} (${nameOf(node.block_id)})` : nameOf(node.block_id);
  const before = new Map(older.nodes.map((node) => [node.id, node]));
  const after = new Map(newer.nodes.map((node) => [node.id, node]));
  const diff: VersionDiff = { nodesAdded: [], nodesRemoved: [], nodesChanged: [], linksAdded: [], linksRemoved: [] };
  for (const [id, node] of after) {
    const old = before.get(id);
    if (!old) diff.nodesAdded.push(describe(node));
    else if (
      old.block_id !== node.block_id ||
      (old.label ?? "") !== (node.label ?? "") ||
      stable(old.input_default ?? {}) !== stable(node.input_default ?? {})
    ) {
      diff.nodesChanged.push(describe(node));
    }
  }
  for (const [id, node] of before) if (!after.has(id)) diff.nodesRemoved.push(describe(node));
  const linkName = (doc: GraphDoc) => {
    const labels = new Map(doc.nodes.map((node) => [node.id, node.label || nameOf(node.block_id)]));
    return (link: GraphDoc["links"][number]) =>
      `${labels.get(link.source_id) ?? link.source_id}.${link.source_name} → ` +
      `${labels.get(link.sink_id) ?? link.sink_id}.${link.sink_name}`;
  };
  const oldLinks = new Map(older.links.map((link) => [edgeId(link), link]));
  const newLinks = new Map(newer.links.map((link) => [edgeId(link), link]));
  for (const [id, link] of newLinks) if (!oldLinks.has(id)) diff.linksAdded.push(linkName(newer)(link));
  for (const [id, link] of oldLinks) if (!newLinks.has(id)) diff.linksRemoved.push(linkName(older)(link));
  return diff;
}
