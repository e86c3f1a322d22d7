// A run started from the canvas, followed live over /ws: node executions are merged by id and
// drawn as each node's overlay; the run's own status decides when following stops.
import { useCallback, useEffect, useRef, useState } from "react";
import { Api } from "../api/client";
import { followRun } from "../api/live";
import type { GraphExecution, NodeExecution } from "../api/types";
import { FINAL_RUN_STATUSES, mergeExecution, overlayOf, undoesAnEnd } from "../lib/overlay";
import type { Canvas } from "./useCanvas";

export interface RunState {
  id: string;
  graphId: string;
  status: string;
  outputs: Record<string, unknown>;
  error: string;
}

export function useRun(api: Api, canvas: Canvas) {
  const [run, setRun] = useState<RunState | null>(null);
  const [executions, setExecutions] = useState<Map<string, NodeExecution[]>>(new Map());
  const stopFollowing = useRef<(() => void) | null>(null);
  const executionsRef = useRef(executions);

  useEffect(() => () => stopFollowing.current?.(), []);

  const onNode = useCallback(
    (execution: NodeExecution) => {
      const next = new Map(executionsRef.current);
      const merged = mergeExecution(next.get(execution.node_id) ?? [], execution);
      next.set(execution.node_id, merged);
      executionsRef.current = next;
      setExecutions(next);
      const overlay = overlayOf(merged);
      canvas.patch((current) => ({
        ...current,
        nodes: current.nodes.map((node) =>
          node.id === execution.node_id ? { ...node, data: { ...node.data, run: overlay } } : node,
        ),
      }));
    },
    [canvas],
  );

  const onRun = useCallback((execution: GraphExecution) => {
    setRun((current) =>
      current && current.id === execution.id && !undoesAnEnd(current.status, execution.status)
        ? {
            ...current,
            status: execution.status,
            outputs: (execution.outputs ?? {}) as Record<string, unknown>,
            error: execution.error_message ?? "",
          }
        : current,
    );
    if (FINAL_RUN_STATUSES.has(execution.status)) {
      stopFollowing.current?.();
      stopFollowing.current = null;
    }
  }, []);

  const follow = useCallback(
    (execution: GraphExecution) => {
      stopFollowing.current?.();
      executionsRef.current = new Map();
      setExecutions(new Map());
      canvas.patch((current) => ({
        ...current,
        nodes: current.nodes.map((node) => ({ ...node, data: { ...node.data, run: undefined, errors: {} } })),
      }));
      setRun({ id: execution.id, graphId: execution.graph_id, status: execution.status, outputs: {}, error: "" });
      stopFollowing.current = followRun(execution.id, {
        // Subscribed: catch up with everything that happened before the subscription.
        onSubscribed: () => {
          api.execution(execution.id).then((detail) => {
            detail.node_executions.forEach(onNode);
            onRun(detail);
          }, () => undefined);
        },
        onNode,
        onRun,
        onError: (message) => setRun((current) => (current ? { ...current, error: message } : current)),
      });
    },
    [api, canvas, onNode, onRun],
  );

  const stop = useCallback(async () => {
    if (!run) return;
    const execution = await api.stop(run.graphId, run.id);
    onRun(execution);
  }, [api, run, onRun]);

  return { run, executions, follow, stop };
}
