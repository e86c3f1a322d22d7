import { describe, expect, it } from "vitest";
import { INPUT, NUMBERS, TEMPLATE } from "../lib/fixtures";
import { costText, searchBlocks } from "./Palette";

describe("palette", () => {
  it("searches names and descriptions by every word, grouped by category", () => {
    const found = searchBlocks([TEMPLATE, NUMBERS, { ...INPUT, categories: ["INPUT"] }], "block fill");
    expect([...found.keys()]).toEqual(["BASIC"]);
    expect(found.get("BASIC")!.map((block) => block.name)).toEqual(["Fill Text Template"]);
    expect([...searchBlocks([TEMPLATE, { ...INPUT, categories: ["INPUT"] }], "").keys()]).toEqual(["BASIC", "INPUT"]);
    expect(searchBlocks([TEMPLATE], "zebra").size).toBe(0);
  });

  it("puts blocks named by the query, and their category, first", () => {
    const executor = { ...TEMPLATE, id: "x", name: "Agent Executor", description: "Runs an agent with the given inputs.", categories: ["AGENT"] };
    const input = { ...INPUT, description: "A value of the run.", categories: ["INPUT"] };
    const found = searchBlocks([executor, input], "agent input");
    expect([...found.keys()]).toEqual(["INPUT", "AGENT"]);
  });

  it("shows each block's cost", () => {
    expect(costText(TEMPLATE)).toBe("free");
    expect(costText({ ...TEMPLATE, costs: [{ amount: 3, unit: "RUN", filter: {} }] })).toBe("3 credits / run");
    const ranged = [{ amount: 1, unit: "RUN", filter: {} }, { amount: 5, unit: "RUN", filter: {} }];
    expect(costText({ ...TEMPLATE, costs: ranged })).toBe("1–5 credits / run");
  });
});
