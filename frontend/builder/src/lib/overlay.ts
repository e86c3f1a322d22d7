// The run overlay of one node from its executions: one status (a node still working shows as
// working and a failure is never hidden by a later success, as on the run page), the number of
// executions and a short preview of the last output.
import type { NodeExecution } from "../api/types";
import type { RunOverlay } from "./graph";

const STATUS_ORDER = ["running", "queued", "incomplete", "failed", "timeout", "cancelled"];
export const FINAL_RUN_STATUSES = new Set(["completed", "failed", "cancelled", "timeout"]);
const PREVIEW_CHARS = 120;

export function nodeStatus(statuses: string[]): string {
  for (const status of STATUS_ORDER) if (statuses.includes(status)) return status;
  return statuses.length ? "completed" : "idle";
}

export function outputPreview(execution: NodeExecution | undefined): string {
  if (!execution) return "";
  if (execution.error) return `error: ${execution.error}`.slice(0, PREVIEW_CHARS);
  const outputs = Object.entries(execution.output_data ?? {}).filter(([pin]) => pin !== "error");
  if (!outputs.length) return "";
  const [pin, values] = outputs[0];
  const last = values[values.length - 1];
  const text = typeof last === "string" ? last : JSON.stringify(last);
  const shown = `${pin}: ${text}`;
  return shown.length > PREVIEW_CHARS ? `${shown.slice(0, PREVIEW_CHARS - 1)}…` : shown;
}

/** Whether a state with `next` would undo an end already shown: the REST catch-up that
 * follows a subscription is read before, and may arrive after, the events that ended a run or
 * an execution. A run or an execution that ended does not start again (a retry is a new one). */
export function undoesAnEnd(shown: string, next: string): boolean {
  return FINAL_RUN_STATUSES.has(shown) && !FINAL_RUN_STATUSES.has(next);
}

/** Executions of one node, merged by id (events may repeat or arrive after a catch-up). */
export function mergeExecution(list: NodeExecution[], execution: NodeExecution): NodeExecution[] {
  const known = list.find((item) => item.id === execution.id);
  if (known && undoesAnEnd(known.status, execution.status)) return list;
  const others = list.filter((item) => item.id !== execution.id);
  return [...others, execution].sort((a, b) => a.sequence - b.sequence);
}

export function overlayOf(executions: NodeExecution[]): RunOverlay {
  return {
    status: nodeStatus(executions.map((execution) => execution.status)),
    count: executions.length,
    lastOutput: outputPreview(executions[executions.length - 1]),
  };
}
