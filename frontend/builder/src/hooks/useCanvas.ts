// The canvas state (nodes and edges) with undo/redo and the unsaved-changes flag. Every edit
// goes through `edit`, which records the state it replaces; selection, measuring and the run
// overlay are not edits.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { useCallback, useRef, useState } from "react";
import type { FlowEdge, FlowNode, NodeData } from "../lib/graph";
import { History } from "../lib/history";

export interface Snapshot {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

// Typing into one field within this many milliseconds is one undo step, not one per key.
const COALESCE_MS = 1500;

export function useCanvas() {
  const [state, setState] = useState<Snapshot>({ nodes: [], edges: [] });
  const [dirty, setDirty] = useState(false);
  const [, setHistoryTick] = useState(0);
  const stateRef = useRef(state);
  const history = useRef(new History<Snapshot>());
  const lastEdit = useRef<{ key: string; at: number } | null>(null);

  const set = useCallback((next: Snapshot) => {
    stateRef.current = next;
    setState(next);
  }, []);

  const edit = useCallback(
    (change: (current: Snapshot) => Snapshot, coalesceKey?: string) => {
      const current = stateRef.current;
      const now = Date.now();
      const last = lastEdit.current;
      if (!(coalesceKey && last && last.key === coalesceKey && now - last.at < COALESCE_MS)) {
        history.current.push(current);
        setHistoryTick((tick) => tick + 1);
      }
      lastEdit.current = coalesceKey ? { key: coalesceKey, at: now } : null;
      set(change(current));
      setDirty(true);
    },
    [set],
  );

  /** Not an edit: the run overlay, server errors, a fresh load. */
  const patch = useCallback((change: (current: Snapshot) => Snapshot) => set(change(stateRef.current)), [set]);

  const load = useCallback(
    (next: Snapshot, clean: boolean) => {
      history.current.clear();
      lastEdit.current = null;
      set(next);
      setDirty(!clean);
      setHistoryTick((tick) => tick + 1);
    },
    [set],
  );

  const updateNode = useCallback(
    (nodeId: string, change: (data: NodeData) => NodeData, coalesceKey?: string) =>
      edit(
        (current) => ({
          ...current,
          nodes: current.nodes.map((node) => (node.id === nodeId ? { ...node, data: change(node.data) } : node)),
        }),
        coalesceKey,
      ),
    [edit],
  );

  // Deleting a node removes its links too, and React Flow reports the two in separate calls in
  // one task: they are one undo step.
  const removal = useCallback(
    (change: (current: Snapshot) => Snapshot) => {
      edit(change, "remove");
      queueMicrotask(() => {
        if (lastEdit.current?.key === "remove") lastEdit.current = null;
      });
    },
    [edit],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const apply = (current: Snapshot) => ({ ...current, nodes: applyNodeChanges(changes, current.nodes) });
      if (changes.some((change) => change.type === "remove" || change.type === "add")) removal(apply);
      else {
        patch(apply);
        if (changes.some((change) => change.type === "position" && change.dragging === false)) setDirty(true);
      }
    },
    [removal, patch],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      const apply = (current: Snapshot) => ({ ...current, edges: applyEdgeChanges(changes, current.edges) });
      if (changes.some((change) => change.type === "remove" || change.type === "add")) removal(apply);
      else patch(apply);
    },
    [removal, patch],
  );

  /** A drag is one undo step: the state before it is recorded when it starts. */
  const onNodeDragStart = useCallback(() => {
    history.current.push(stateRef.current);
    lastEdit.current = null;
    setHistoryTick((tick) => tick + 1);
  }, []);

  const undo = useCallback(() => {
    const previous = history.current.undo(stateRef.current);
    if (previous) {
      lastEdit.current = null;
      set(previous);
      setDirty(true);
      setHistoryTick((tick) => tick + 1);
    }
  }, [set]);

  const redo = useCallback(() => {
    const next = history.current.redo(stateRef.current);
    if (next) {
      lastEdit.current = null;
      set(next);
      setDirty(true);
      setHistoryTick((tick) => tick + 1);
    }
  }, [set]);

  return {
    nodes: state.nodes,
    edges: state.edges,
    stateRef,
    dirty,
    setDirty,
    edit,
    patch,
    load,
    updateNode,
    onNodesChange,
    onEdgesChange,
    onNodeDragStart,
    undo,
    redo,
    canUndo: history.current.canUndo,
    canRedo: history.current.canRedo,
  };
}

export type Canvas = ReturnType<typeof useCanvas>;
