import { describe, expect, it } from "vitest";
import type { NodeExecution } from "../api/types";
import { mergeExecution, nodeStatus, outputPreview, overlayOf, undoesAnEnd } from "./overlay";

function execution(id: string, sequence: number, status: NodeExecution["status"], output: Record<string, unknown[]> = {}): NodeExecution {
  return { id, graph_exec_id: "g", node_id: "n", block_id: "b", sequence, status, output_data: output } as NodeExecution;
}

describe("run overlay", () => {
  it("shows a node still working as working and never hides a failure", () => {
    expect(nodeStatus(["completed", "running"])).toBe("running");
    expect(nodeStatus(["failed", "completed"])).toBe("failed");
    expect(nodeStatus(["completed"])).toBe("completed");
    expect(nodeStatus([])).toBe("idle");
  });

  it("merges repeated events by id, in sequence order", () => {
    let list = mergeExecution([], execution("2", 2, "running"));
    list = mergeExecution(list, execution("1", 1, "completed"));
    list = mergeExecution(list, execution("2", 2, "completed", { output: ["done"] }));
    expect(list.map((item) => [item.id, item.status])).toEqual([["1", "completed"], ["2", "completed"]]);
    expect(overlayOf(list)).toEqual({ status: "completed", count: 2, lastOutput: "output: done" });
  });

  it("keeps an end when a catch-up read before it arrives after it", () => {
    let list = mergeExecution([], execution("1", 1, "completed", { output: ["done"] }));
    list = mergeExecution(list, execution("1", 1, "running"));
    expect(list.map((item) => item.status)).toEqual(["completed"]);
    expect(undoesAnEnd("completed", "running")).toBe(true);
    expect(undoesAnEnd("failed", "queued")).toBe(true);
    // What does move on: to an end, and out of a review (which is no end).
    expect(undoesAnEnd("running", "completed")).toBe(false);
    expect(undoesAnEnd("review", "running")).toBe(false);
    expect(undoesAnEnd("completed", "completed")).toBe(false);
  });

  it("previews the last value, shortened, or the error", () => {
    expect(outputPreview(execution("1", 1, "completed", { output: ["a", "b"] }))).toBe("output: b");
    expect(outputPreview(execution("1", 1, "completed", { output: ["x".repeat(500)] }))).toHaveLength(120);
    expect(outputPreview({ ...execution("1", 1, "failed"), error: "boom" })).toBe("error: boom");
  });
});
