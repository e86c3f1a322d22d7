import { describe, expect, it } from "vitest";
import { History } from "./history";

describe("undo/redo", () => {
  it("walks back and forth through recorded states", () => {
    const history = new History<string>();
    history.push("a"); // a → b
    history.push("b"); // b → c
    expect(history.undo("c")).toBe("b");
    expect(history.undo("b")).toBe("a");
    expect(history.undo("a")).toBeNull();
    expect(history.redo("a")).toBe("b");
    expect(history.redo("b")).toBe("c");
    expect(history.redo("c")).toBeNull();
  });

  it("forgets the redo branch after a new edit and stays bounded", () => {
    const history = new History<number>(3);
    [1, 2, 3, 4].forEach((state) => history.push(state));
    expect(history.undo(5)).toBe(4);
    history.push(4);
    expect(history.canRedo).toBe(false);
    expect(history.undo(6)).toBe(4);
    expect(history.undo(4)).toBe(3);
    expect(history.undo(3)).toBe(2);
    expect(history.undo(2)).toBeNull();
  });
});
