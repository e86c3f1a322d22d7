// The side panels: the run's inputs form (generated from the graph's Input nodes, like the
// agent page's), a node's executions, a "Test this node" result, and the run's outputs.
import { useState } from "react";
import type { BlockOutputs, NodeExecution, PinSchema } from "../api/types";
import { fieldFor } from "../lib/form";
import type { RunState } from "../hooks/useRun";
import { Field } from "./Field";

function Value({ value }: { value: unknown }) {
  return <pre className="value">{typeof value === "string" ? value : JSON.stringify(value, null, 2)}</pre>;
}

export function RunForm({
  schema,
  onRun,
  onCancel,
}: {
  schema: PinSchema;
  onRun(inputs: Record<string, unknown>): void;
  onCancel(): void;
}) {
  const properties = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const [values, setValues] = useState<Record<string, unknown>>({});
  return (
    <form className="run-form panel-section" aria-label="Run inputs"
      onSubmit={(event) => { event.preventDefault(); onRun(values); }}>
      <h2>Run this agent</h2>
      {Object.keys(properties).length === 0 && <p className="muted">This agent takes no inputs.</p>}
      {Object.entries(properties).map(([name, pin]) => (
        <Field key={name} field={{ ...fieldFor(name, pin, required.has(name)), label: pin.title ?? name }}
          value={values[name] ?? pin.default} readOnly={false}
          onChange={(value) => setValues((current) => ({ ...current, [name]: value }))} />
      ))}
      <div className="row">
        <button type="submit" className="button">Start run</button>
        <button type="button" className="button secondary" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

export function RunStatus({ run, onStop }: { run: RunState; onStop(): void }) {
  const finished = ["completed", "failed", "cancelled", "timeout"].includes(run.status);
  return (
    <section className="panel-section run-status-panel" aria-label="Run">
      <h2>
        Run <span className="run-status" data-status={run.status} id="run-status">{run.status}</span>
      </h2>
      {!finished && <button type="button" className="button danger" onClick={onStop}>Stop</button>}
      {run.error && <p className="error" role="alert">{run.error}</p>}
      {Object.keys(run.outputs).length > 0 && (
        <div id="run-outputs">
          <h3>Outputs</h3>
          {Object.entries(run.outputs).map(([name, value]) => (
            <div key={name}><strong>{name}</strong><Value value={value} /></div>
          ))}
        </div>
      )}
      <a href={`/runs/${run.id}`}>Open the run page</a>
    </section>
  );
}

export function NodeExecutions({ label, executions }: { label: string; executions: NodeExecution[] }) {
  return (
    <section className="panel-section" aria-label={`Executions of ${label}`} id="node-executions">
      <h2>Executions of {label}</h2>
      {executions.length === 0 && <p className="muted">No executions in this run.</p>}
      {executions.map((execution) => (
        <details key={execution.id} open className="execution" data-status={execution.status}>
          <summary>#{execution.sequence} <span className="run-status" data-status={execution.status}>{execution.status}</span></summary>
          <h4>Input</h4>
          <Value value={execution.input_data} />
          <h4>Output</h4>
          <Value value={execution.output_data} />
          {execution.error && <p className="error">{execution.error}</p>}
        </details>
      ))}
    </section>
  );
}

export function TestResult({ label, outputs, error }: { label: string; outputs: BlockOutputs | null; error: string }) {
  return (
    <section className="panel-section" aria-label={`Test of ${label}`} id="test-result">
      <h2>Test of {label}</h2>
      {error && <p className="error" role="alert">{error}</p>}
      {outputs &&
        Object.entries(outputs).map(([pin, values]) => (
          <div key={pin}><strong>{pin}</strong><Value value={values.length === 1 ? values[0] : values} /></div>
        ))}
    </section>
  );
}
