// Which output feeds each linked input pin (shown on the pin instead of its field), and which
// output pins have links (the only pins an unknown block is known to have).
import { useMemo } from "react";
import type { Block } from "../api/types";
import type { FlowEdge, FlowNode } from "../lib/graph";

export function useLinked(nodes: FlowNode[], edges: FlowEdge[], blocks: Map<string, Block> | null) {
  // What linked pins show depends on labels and links only: a drag (positions) must not
  // re-render every node through the context.
  const labelKey = nodes.map((node) => `${node.id}\u0000${node.data.label}\u0000${node.data.blockId}`).join("\u0001");
  const linked = useMemo(() => {
    const labels = new Map(
      labelKey.split("\u0001").filter(Boolean).map((entry) => {
        const [id, label, blockId] = entry.split("\u0000");
        return [id, label || blocks?.get(blockId)?.name || id] as const;
      }),
    );
    const found = new Map<string, Map<string, string>>();
    for (const edge of edges) {
      const pins = found.get(edge.target) ?? new Map<string, string>();
      pins.set(edge.targetHandle ?? "", `${labels.get(edge.source)}.${edge.sourceHandle}`);
      found.set(edge.target, pins);
    }
    return found;
  }, [labelKey, edges, blocks]);

  const outgoing = useMemo(() => {
    const found = new Map<string, string[]>();
    for (const edge of edges) {
      const pins = found.get(edge.source) ?? [];
      if (!pins.includes(edge.sourceHandle ?? "")) pins.push(edge.sourceHandle ?? "");
      found.set(edge.source, pins);
    }
    return found;
  }, [edges]);

  return { linked, outgoing };
}
