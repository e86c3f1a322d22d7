import { describe, expect, it } from "vitest";
import type { FlowEdge, FlowNode } from "./graph";
import { autoLayout } from "./layout";

function at(id: string): FlowNode {
  return { id, position: { x: 0, y: 0 }, data: { blockId: "b", label: "", inputDefault: {}, metadata: {}, extraPins: [], errors: {} } };
}

describe("auto-layout", () => {
  it("lays a chain out left to right and parallel branches apart", () => {
    const edges: FlowEdge[] = [
      { id: "1", source: "a", target: "b" },
      { id: "2", source: "a", target: "c" },
      { id: "3", source: "b", target: "d" },
      { id: "4", source: "c", target: "d" },
    ];
    const placed = new Map(autoLayout(["a", "b", "c", "d"].map(at), edges).map((node) => [node.id, node.position]));
    expect(placed.get("a")!.x).toBeLessThan(placed.get("b")!.x);
    expect(placed.get("b")!.x).toBeLessThan(placed.get("d")!.x);
    expect(placed.get("b")!.x).toBe(placed.get("c")!.x);
    expect(Math.abs(placed.get("b")!.y - placed.get("c")!.y)).toBeGreaterThanOrEqual(220);
  });

  it("uses the sizes React Flow measured", () => {
    const tall = { ...at("a"), measured: { width: 300, height: 900 } };
    const placed = autoLayout([tall, at("b")], [{ id: "e", source: "a", target: "b" }]);
    expect(placed[1].position.x - placed[0].position.x).toBeGreaterThanOrEqual(300);
  });
});
