import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { followRun } from "./live";

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
});
