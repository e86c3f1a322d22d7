import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { followRun, SeqTracker } from "./live";

// A WebSocket that the test drives: it records what is sent and fires events on demand.
class FakeSocket {
  static made: FakeSocket[] = [];
  sent: string[] = [];
  private listeners = new Map<string, ((event: unknown) => void)[]>();
  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  addEventListener(type: string, listener: (event: unknown) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.fire("close", { code: 1000 });
  }
  fire(type: string, event: unknown = {}) {
    (this.listeners.get(type) ?? []).forEach((listener) => listener(event));
  }
}

function handlers() {
  return { onSubscribed: vi.fn(), onNode: vi.fn(), onRun: vi.fn(), onError: vi.fn() };
}

describe("following a run", () => {
  beforeEach(() => {
    FakeSocket.made = [];
    vi.useFakeTimers();
    vi.stubGlobal("WebSocket", FakeSocket);
    vi.stubGlobal("location", { protocol: "http:", host: "example.test" });
    vi.stubGlobal("window", globalThis);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("subscribes, then hands on node and run events", () => {
    const seen = handlers();
    followRun("run-1", seen);
    const socket = FakeSocket.made[0];
    expect(socket.url).toBe("ws://example.test/ws");
    socket.fire("open");
    expect(JSON.parse(socket.sent[0])).toEqual({ method: "subscribe_graph_execution", data: { graph_exec_id: "run-1" } });
    socket.fire("message", { data: JSON.stringify({ method: "subscribe_graph_execution", success: true }) });
    socket.fire("message", { data: JSON.stringify({ method: "node_execution_event", data: { id: "n" } }) });
    socket.fire("message", { data: JSON.stringify({ method: "graph_execution_event", data: { id: "run-1" } }) });
    expect(seen.onSubscribed).toHaveBeenCalledOnce();
    expect(seen.onNode).toHaveBeenCalledWith({ id: "n" });
    expect(seen.onRun).toHaveBeenCalledWith({ id: "run-1" });
  });

  it("reopens a dropped connection, subscribes again, and stops when told", () => {
    const seen = handlers();
    const stop = followRun("run-1", seen);
    FakeSocket.made[0].fire("close", { code: 1006 });
    vi.advanceTimersByTime(500);
    expect(FakeSocket.made).toHaveLength(2);
    FakeSocket.made[1].fire("open");
    expect(FakeSocket.made[1].sent).toHaveLength(1);
    stop();
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(2);
  });

  it("does not retry a refusal, and says so", () => {
    const seen = handlers();
    followRun("run-1", seen);
    FakeSocket.made[0].fire("close", { code: 4003 });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.made).toHaveLength(1);
    expect(seen.onError).toHaveBeenCalledWith("live updates refused (4003)");
  });

  function event(method: string, seq: number | undefined, id: string) {
    return { data: JSON.stringify({ method, seq, channel: "exec.run-1", data: { id } }) };
  }

  it("resubscribes after a reconnect with the last seq and drops what it already had", () => {
    const seen = handlers();
    followRun("run-1", seen);
    const first = FakeSocket.made[0];
    first.fire("open");
    first.fire("message", { data: JSON.stringify({ method: "subscribe_graph_execution", success: true }) });
    expect(seen.onSubscribed).toHaveBeenCalledOnce();
    first.fire("message", event("node_execution_event", 1, "a"));
    first.fire("message", event("node_execution_event", 2, "b"));
    first.fire("close", { code: 1006 });
    vi.advanceTimersByTime(500);

    const second = FakeSocket.made[1];
    second.fire("open");
    expect(JSON.parse(second.sent[0])).toEqual({
      method: "subscribe_graph_execution",
      data: { graph_exec_id: "run-1", since_seq: 2 },
    });
    // The replay is the catching up: no REST refresh on this acknowledgement.
    second.fire("message", { data: JSON.stringify({ method: "subscribe_graph_execution", success: true }) });
    expect(seen.onSubscribed).toHaveBeenCalledOnce();
    second.fire("message", event("node_execution_event", 2, "b"));  // a repeat
    second.fire("message", event("node_execution_event", 3, "c"));
    second.fire("message", event("graph_execution_event", 4, "run-1"));
    second.fire("message", event("graph_execution_event", 4, "run-1"));  // the watchdog's re-publication
    second.fire("message", event("node_execution_event", 1, "a"));  // older still
    expect(seen.onNode.mock.calls.map(([data]) => data.id)).toEqual(["a", "b", "c"]);
    expect(seen.onRun).toHaveBeenCalledOnce();
  });

  it("without any event seen, a reconnect subscribes afresh and catches up through REST", () => {
    const seen = handlers();
    followRun("run-1", seen);
    FakeSocket.made[0].fire("open");
    FakeSocket.made[0].fire("close", { code: 1006 });
    vi.advanceTimersByTime(500);
    const second = FakeSocket.made[1];
    second.fire("open");
    expect(JSON.parse(second.sent[0]).data).toEqual({ graph_exec_id: "run-1" });
    second.fire("message", { data: JSON.stringify({ method: "subscribe_graph_execution", success: true }) });
    expect(seen.onSubscribed).toHaveBeenCalledOnce();
  });
});

describe("the seq of a run's events", () => {
  it("keeps the highest seq handed on and refuses anything at or below it", () => {
    const seqs = new SeqTracker();
    expect(seqs.subscription("r")).toEqual({ graph_exec_id: "r" });
    expect(seqs.accept(5)).toBe(true);
    expect(seqs.accept(5)).toBe(false);
    expect(seqs.accept(3)).toBe(false);
    expect(seqs.accept(7)).toBe(true);  // a gap is the server's to fill by replay, not ours to refuse
    expect(seqs.lastSeq).toBe(7);
    expect(seqs.subscription("r")).toEqual({ graph_exec_id: "r", since_seq: 7 });
  });

  it("hands on an event without a seq and does not let it move the mark", () => {
    const seqs = new SeqTracker();
    expect(seqs.accept(undefined)).toBe(true);
    expect(seqs.lastSeq).toBeNull();
    expect(seqs.accept(0)).toBe(true);
    expect(seqs.accept(0)).toBe(false);
    expect(seqs.subscription("r")).toEqual({ graph_exec_id: "r", since_seq: 0 });
  });
});
