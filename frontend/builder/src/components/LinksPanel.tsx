// A node's links without a mouse: for each input pin, its links (removable) and a choice of
// the other nodes' outputs that may feed it (the same type rules as dragging).
import { useState } from "react";
import type { Block } from "../api/types";
import { dynamicPinsOf, type FlowEdge, type FlowNode } from "../lib/graph";
import { canBeTool, inputPins, linkProblem, outputPins, TOOL_END, TOOLS_PIN } from "../lib/pins";

interface Props {
  node: FlowNode;
  nodes: FlowNode[];
  edges: FlowEdge[];
  blocks: Map<string, Block>;
  readOnly: boolean;
  onLink(source: string, sourcePin: string, target: string, targetPin: string): void;
  onUnlink(edgeId: string): void;
}

function labelOf(node: FlowNode, blocks: Map<string, Block>): string {
  return node.data.label || blocks.get(node.data.blockId)?.name || node.id;
}

function PinLinks({ pin, props }: { pin: string; props: Props }) {
  const { node, nodes, edges, blocks, readOnly, onLink, onUnlink } = props;
  const [choice, setChoice] = useState("");
  const sink = blocks.get(node.data.blockId)!;
  const linked = edges.filter((edge) => edge.target === node.id && edge.targetHandle === pin);
  const candidates: { value: string; label: string }[] = [];
  for (const other of nodes) {
    const source = blocks.get(other.data.blockId);
    if (other.id === node.id || !source) continue;
    for (const out of Object.keys(outputPins(source))) {
      if (out !== "error" && linkProblem(source, out, sink, pin) === null) {
        candidates.push({ value: JSON.stringify([other.id, out]), label: `${labelOf(other, blocks)}.${out}` });
      }
    }
  }
  const byId = new Map(nodes.map((item) => [item.id, item]));
  return (
    <li data-pin={pin}>
      <strong>{pin}</strong>
      <ul>
        {linked.map((edge) => (
          <li key={edge.id}>
            ← {byId.get(edge.source) ? labelOf(byId.get(edge.source)!, blocks) : edge.source}.{edge.sourceHandle}
            {!readOnly && <button type="button" onClick={() => onUnlink(edge.id)}>Remove link</button>}
          </li>
        ))}
      </ul>
      {!readOnly && candidates.length > 0 && (
        <div className="row">
          <select aria-label={`Link ${pin} from`} value={choice} onChange={(event) => setChoice(event.target.value)}>
            <option value="">— link from —</option>
            {candidates.map((candidate) => <option key={candidate.value} value={candidate.value}>{candidate.label}</option>)}
          </select>
          <button type="button" disabled={!choice} onClick={() => {
            const [source, out] = JSON.parse(choice) as [string, string];
            onLink(source, out, node.id, pin);
            setChoice("");
          }}>Link</button>
        </div>
      )}
    </li>
  );
}

export function LinksPanel(props: Props) {
  const block = props.blocks.get(props.node.data.blockId);
  if (!block) return <p className="muted">The links of an unknown block cannot be checked here.</p>;
  const pins = [...Object.keys(inputPins(block)), ...dynamicPinsOf(props.node, props.edges)];
  // The tool end, when the agent has an AI Agent whose tools this node could be.
  const agents = props.nodes.some((other) => {
    const source = props.blocks.get(other.data.blockId);
    return other.id !== props.node.id && source !== undefined && TOOLS_PIN in outputPins(source);
  });
  if (agents && canBeTool(block)) pins.push(TOOL_END);
  return (
    <section className="panel-section links-panel" aria-label={`Links of ${labelOf(props.node, props.blocks)}`} id="links-panel">
      <h2>Links of {labelOf(props.node, props.blocks)}</h2>
      <ul className="plain">{pins.map((pin) => <PinLinks key={pin} pin={pin} props={props} />)}</ul>
    </section>
  );
}
