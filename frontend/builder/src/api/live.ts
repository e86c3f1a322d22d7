// Following one run over /ws (SPEC §8): subscribe, then catch up through REST once the
// subscription is acknowledged, so no event between the start (or a lost connection) and the
// subscription is missed. A dropped connection is reopened with backoff until stopped.
import type { GraphExecution, NodeExecution } from "./types";

export interface LiveHandlers {
  onSubscribed(): void;
  onNode(execution: NodeExecution): void;
  onRun(execution: GraphExecution): void;
  onError(message: string): void;
}

const MAX_BACKOFF_MS = 10_000;

export function followRun(execId: string, handlers: LiveHandlers): () => void {
  let stopped = false;
  let socket: WebSocket | null = null;
  let backoff = 500;
  let retry: number | undefined;

  const open = () => {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(`${scheme}${location.host}/ws`);
    socket.addEventListener("open", () => {
      backoff = 500;
      socket?.send(JSON.stringify({ method: "subscribe_graph_execution", data: { graph_exec_id: execId } }));
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      if (message.method === "subscribe_graph_execution" && message.success) handlers.onSubscribed();
      else if (message.method === "node_execution_event") handlers.onNode(message.data);
      else if (message.method === "graph_execution_event") handlers.onRun(message.data);
      else if (message.method === "error") handlers.onError(String(message.error ?? "live updates failed"));
    });
    socket.addEventListener("close", (event) => {
      if (stopped) return;
      if (event.code >= 4000) {
        // Refused (signed out, not the user's run): retrying would be refused again.
        handlers.onError(`live updates refused (${event.code})`);
        return;
      }
      retry = window.setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    });
  };
  open();
  return () => {
    stopped = true;
    window.clearTimeout(retry);
    socket?.close();
  };
}
