// Following one run over /ws (SPEC §8): subscribe, then catch up through REST once the
// subscription is acknowledged, so no event between the start and the subscription is missed.
import type { GraphExecution, NodeExecution } from "./types";

export interface LiveHandlers {
  onSubscribed(): void;
  onNode(execution: NodeExecution): void;
  onRun(execution: GraphExecution): void;
  onError(message: string): void;
}

export function followRun(execId: string, handlers: LiveHandlers): () => void {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(`${scheme}${location.host}/ws`);
  socket.addEventListener("open", () => {
    socket.send(JSON.stringify({ method: "subscribe_graph_execution", data: { graph_exec_id: execId } }));
  });
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data));
    if (message.method === "subscribe_graph_execution" && message.success) handlers.onSubscribed();
    else if (message.method === "node_execution_event") handlers.onNode(message.data);
    else if (message.method === "graph_execution_event") handlers.onRun(message.data);
    else if (message.method === "error") handlers.onError(String(message.error ?? "live updates failed"));
  });
  socket.addEventListener("close", (event) => {
    if (event.code >= 4000) handlers.onError(`live updates refused (${event.code})`);
  });
  return () => socket.close();
}
