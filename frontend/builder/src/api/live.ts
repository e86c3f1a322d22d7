// Following one run over /ws (SPEC §8, §17): subscribe, then catch up through REST once the
// subscription is acknowledged, so no event between the start and the subscription is missed.
// Every event of a run carries `seq`; the highest one handed on is kept, a dropped connection is
// reopened with backoff and resubscribes with `since_seq` (the server replays what came after,
// then goes live), and an event at or below it (a replayed or re-published one) is dropped.
import type { GraphExecution, NodeExecution } from "./types";

export interface LiveHandlers {
  onSubscribed(): void;
  onNode(execution: NodeExecution): void;
  onRun(execution: GraphExecution): void;
  onError(message: string): void;
}

const MAX_BACKOFF_MS = 10_000;

/** The events of one run in `seq` order, each once: which to hand on, and what to resubscribe
 * with (`since_seq` once any event was seen). */
export class SeqTracker {
  private last: number | null = null;

  /** The subscription's data: `since_seq` once an event was seen, so the server replays. */
  subscription(execId: string): { graph_exec_id: string; since_seq?: number } {
    return this.last === null ? { graph_exec_id: execId } : { graph_exec_id: execId, since_seq: this.last };
  }

  /** Whether an event is new (and then remember its `seq`); one without a `seq` is handed on. */
  accept(seq: unknown): boolean {
    if (typeof seq !== "number") return true;
    if (this.last !== null && seq <= this.last) return false;
    this.last = seq;
    return true;
  }

  get lastSeq(): number | null {
    return this.last;
  }
}

export function followRun(execId: string, handlers: LiveHandlers): () => void {
  let stopped = false;
  let socket: WebSocket | null = null;
  let backoff = 500;
  let retry: number | undefined;
  const seqs = new SeqTracker();
  let replaying = false;

  const open = () => {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(`${scheme}${location.host}/ws`);
    socket.addEventListener("open", () => {
      backoff = 500;
      const data = seqs.subscription(execId);
      replaying = data.since_seq !== undefined;
      socket?.send(JSON.stringify({ method: "subscribe_graph_execution", data }));
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(String(event.data));
      if (message.method === "subscribe_graph_execution") {
        // With `since_seq` the replay that follows is the catching up; without, REST is.
        if (message.success && !replaying) handlers.onSubscribed();
      } else if (message.method === "error") {
        handlers.onError(String(message.error ?? "live updates failed"));
      } else if (message.method === "node_execution_event") {
        if (seqs.accept(message.seq)) handlers.onNode(message.data);
      } else if (message.method === "graph_execution_event") {
        if (seqs.accept(message.seq)) handlers.onRun(message.data);
      }
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
