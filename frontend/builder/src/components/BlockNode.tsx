// A node on the canvas: label, block name, typed input pins on the left (each with its form
// field unless linked), output pins on the right, the credential picker, errors and the run
// overlay. Note blocks are sticky notes; blocks unknown here keep their data and say so.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo, useState } from "react";
import type { Block, PinSchema } from "../api/types";
import { fieldFor, resolveRef } from "../lib/form";
import type { FlowNode } from "../lib/graph";
import { nodeSettings } from "../lib/settings";
import {
  canBeTool, dynamicKind, dynamicPinName, inputPins, outputPins, requiredInputs, splitDynamicPin, TOOL_END, typeLabel,
} from "../lib/pins";
import { useBuilder } from "./context";
import { Field } from "./Field";
import { NodeSettings } from "./NodeSettings";

function PinLabel({ name, schema, required }: { name: string; schema?: PinSchema; required?: boolean }) {
  return (
    <span className="pin-name">
      {schema?.title ?? name}
      {required && <span className="required" aria-label="required">*</span>}
      <span className="pin-type">{typeLabel(schema)}</span>
    </span>
  );
}

function InputPin({ node, block, name, schema }: { node: FlowNode; block: Block; name: string; schema: PinSchema }) {
  const { linked, readOnly, actions } = useBuilder();
  const source = linked.get(node.id)?.get(name);
  const required = requiredInputs(block).has(name);
  const error = node.data.errors[name];
  return (
    <div className={`pin-row in${error ? " has-error" : ""}`} data-pin={name}>
      <Handle type="target" position={Position.Left} id={name} className="pin-handle" aria-label={`input ${name}`} />
      {source ? (
        <>
          <PinLabel name={name} schema={schema} required={required} />
          <span className="linked-from">← {source}</span>
          {error && <p className="field-error" role="alert">{error}</p>}
        </>
      ) : (
        <Field field={fieldFor(name, resolveRef(schema, block.input_schema as PinSchema), required)}
          value={node.data.inputDefault[name]} error={error}
          readOnly={readOnly} onChange={(value) => actions.setInput(node.id, name, value)} />
      )}
    </div>
  );
}

function DynamicPins({ node, block, base, schema }: { node: FlowNode; block: Block; base: string; schema: PinSchema }) {
  const { readOnly, actions, linked } = useBuilder();
  const [key, setKey] = useState("");
  const kind = dynamicKind(schema)!;
  const existing = [...new Set([...node.data.extraPins, ...Object.keys(node.data.inputDefault), ...(linked.get(node.id)?.keys() ?? [])])];
  const pins = existing.filter((pin) => splitDynamicPin(pin).base === base && splitDynamicPin(pin).separator).sort();
  const itemSchema = (kind === "dict" ? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : {}) : schema.items) ?? {};
  const add = () => {
    const pin = dynamicPinName(base, kind, existing, key);
    if (pin) {
      actions.addPin(node.id, pin);
      setKey("");
    }
  };
  return (
    <div className="dynamic-pins" data-dynamic={base}>
      {pins.map((pin) => (
        <div key={pin} className="dynamic-pin">
          <InputPin node={node} block={block} name={pin} schema={{ ...itemSchema, title: splitDynamicPin(pin).key ?? pin }} />
          {!readOnly && (
            <button type="button" className="nodrag icon" aria-label={`Remove pin ${pin}`} onClick={() => actions.removePin(node.id, pin)}>×</button>
          )}
        </div>
      ))}
      {!readOnly && (
        <div className="add-pin nodrag">
          {kind === "dict" && (
            <input aria-label={`New key for ${base}`} placeholder="key" value={key} onChange={(event) => setKey(event.target.value)}
              onKeyDown={(event) => { if (event.key === "Enter") { event.preventDefault(); add(); } }} />
          )}
          <button type="button" onClick={add} disabled={kind === "dict" && !key.trim()}>
            + {kind === "dict" ? "key" : "item"} in {base}
          </button>
        </div>
      )}
    </div>
  );
}

function CredentialPicker({ node, block }: { node: FlowNode; block: Block }) {
  const { credentials, providers, credentialsUrl, readOnly, actions } = useBuilder();
  const provider = block.credentials_provider!;
  const title = providers[provider] ?? provider;
  // Only credentials of a type the block takes: another type is refused at save.
  const types = block.credential_types ?? [];
  const mine = (credentials[provider] ?? []).filter((c) => types.length === 0 || types.includes(c.type));
  const chosen = (node.data.metadata.credentials_id as string | undefined) ?? "";
  return (
    <div className="credentials nodrag" data-provider={provider}>
      <label>
        Credential for {title}
        <select value={chosen} disabled={readOnly} aria-label={`Credential for ${title}`}
          onChange={(event) => actions.setMetadata(node.id, "credentials_id", event.target.value || undefined)}>
          <option value="">{mine.length ? "— choose —" : "(none saved)"}</option>
          {mine.map((credential) => <option key={credential.id} value={credential.id}>{credential.title}</option>)}
        </select>
      </label>
      <a href={credentialsUrl} target="_blank" rel="noopener">Add new</a>
    </div>
  );
}

function RunFooter({ node }: { node: FlowNode }) {
  const { actions, readOnly } = useBuilder();
  const run = node.data.run;
  return (
    <footer className="bn-footer nodrag">
      {run && (
        <div className="run-overlay">
          <span className="run-status" data-status={run.status}>{run.status}</span>
          <span className="run-count" title="executions">×{run.count}</span>
          {run.lastOutput && <code className="run-output">{run.lastOutput}</code>}
        </div>
      )}
      <div className="bn-actions">
        {!readOnly && <button type="button" onClick={() => actions.testNode(node.id)}>Test this node</button>}
        <button type="button" onClick={() => actions.showLinks(node.id)}>Links</button>
        <button type="button" onClick={() => actions.showExecutions(node.id)}>Executions</button>
      </div>
    </footer>
  );
}

function NodeHeader({ node, block }: { node: FlowNode; block?: Block }) {
  const { readOnly, actions } = useBuilder();
  return (
    <header className="bn-head">
      <input className="bn-label nodrag" aria-label="Node label" value={node.data.label} disabled={readOnly}
        placeholder={block?.name ?? "Unknown block"} onChange={(event) => actions.setLabel(node.id, event.target.value)} />
      <span className="bn-block">{block?.name ?? node.data.blockId}</span>
    </header>
  );
}

function NodeErrors({ node, shown }: { node: FlowNode; shown: Set<string> }) {
  const rest = Object.entries(node.data.errors).filter(([field]) => !shown.has(field));
  if (!rest.length) return null;
  return (
    <ul className="node-errors" role="alert">
      {rest.map(([field, message]) => <li key={field}><strong>{field}</strong>: {message}</li>)}
    </ul>
  );
}

function statusClass(node: FlowNode): string {
  const parts = ["bn"];
  if (node.data.run) parts.push(`status-${node.data.run.status}`);
  if (Object.keys(node.data.errors).length) parts.push("has-errors");
  return parts.join(" ");
}

export const BlockNode = memo(function BlockNode({ data, id, selected }: NodeProps<FlowNode>) {
  const { blocks } = useBuilder();
  const node = { id, data } as FlowNode;
  const block = blocks.get(data.blockId)!;
  const pins = Object.entries(inputPins(block));
  const basic = pins.filter(([, schema]) => !schema.advanced);
  const advanced = pins.filter(([, schema]) => schema.advanced);
  // Pins, and the settings' keys, show their errors in place.
  const shown = new Set<string>([...pins.map(([name]) => name), ...nodeSettings(block).map((setting) => setting.key)]);
  Object.keys(data.errors).forEach((field) => { if (splitDynamicPin(field).separator) shown.add(field); });
  const renderPin = ([name, schema]: [string, PinSchema]) => (
    <div key={name}>
      <InputPin node={node} block={block} name={name} schema={schema} />
      {dynamicKind(schema) && <DynamicPins node={node} block={block} base={name} schema={schema} />}
    </div>
  );
  return (
    <div className={statusClass(node)} data-node-id={id} data-block={block.name} aria-selected={selected}>
      {canBeTool(block) && (
        <Handle type="target" position={Position.Top} id={TOOL_END} className="pin-handle tool-handle"
          aria-label="tool end: link an AI Agent's tools pin here" title="Link an AI Agent's tools pin here to make this node one of its tools" />
      )}
      <NodeHeader node={node} block={block} />
      <NodeErrors node={node} shown={shown} />
      {block.credentials_provider && <CredentialPicker node={node} block={block} />}
      <div className="bn-body">
        <div className="bn-inputs">
          {basic.map(renderPin)}
          {advanced.length > 0 && (
            <details className="advanced nodrag">
              <summary>Advanced ({advanced.length})</summary>
              {advanced.map(renderPin)}
            </details>
          )}
        </div>
        <div className="bn-outputs">
          {Object.entries(outputPins(block)).map(([name, schema]) => (
            <div key={name} className="pin-row out" data-pin={name}>
              <PinLabel name={name} schema={schema} />
              <Handle type="source" position={Position.Right} id={name} className="pin-handle" aria-label={`output ${name}`} />
            </div>
          ))}
        </div>
      </div>
      <NodeSettings node={node} block={block} />
      <RunFooter node={node} />
    </div>
  );
});

export const NoteNode = memo(function NoteNode({ data, id }: NodeProps<FlowNode>) {
  const { readOnly, actions } = useBuilder();
  return (
    <div className="sticky-note" data-node-id={id} data-block="Note">
      <textarea className="nodrag" aria-label="Note" value={String(data.inputDefault.text ?? "")} disabled={readOnly}
        placeholder="Write a note…" onChange={(event) => actions.setInput(id, "text", event.target.value)} />
    </div>
  );
});

export const UnknownNode = memo(function UnknownNode({ data, id }: NodeProps<FlowNode>) {
  const { linked, outgoing } = useBuilder();
  const node = { id, data } as FlowNode;
  const sinks = [...(linked.get(id)?.keys() ?? [])];
  const sources = outgoing.get(id) ?? [];
  return (
    <div className="bn unknown has-errors" data-node-id={id} data-block="unknown">
      <NodeHeader node={node} />
      <p className="unknown-note" role="note">
        Unknown block <code>{data.blockId}</code>: not installed here. Its data is kept, but the agent
        cannot be saved until the node is removed or the block is installed.
      </p>
      <NodeErrors node={node} shown={new Set()} />
      <pre className="unknown-data">{JSON.stringify(data.inputDefault, null, 2)}</pre>
      {sinks.map((pin) => (
        <div key={pin} className="pin-row in" data-pin={pin}>
          <Handle type="target" position={Position.Left} id={pin} className="pin-handle" />
          <span className="pin-name">{pin}</span>
        </div>
      ))}
      {sources.map((pin) => (
        <div key={pin} className="pin-row out" data-pin={pin}>
          <span className="pin-name">{pin}</span>
          <Handle type="source" position={Position.Right} id={pin} className="pin-handle" />
        </div>
      ))}
    </div>
  );
});

export const nodeTypes = { block: BlockNode, note: NoteNode, unknown: UnknownNode };
