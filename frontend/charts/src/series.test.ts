import { describe, expect, it } from "vitest";
import { agentQuality, agentRuns, CHARTS, dayLabel, queueDepth, slowestBlocks, type PlatformFigures } from "./series";

const agent = {
  days: ["2026-12-03", "2026-12-04"],
  series: [
    { runs: 0, failed: 0, success_rate: null, median_seconds: null, credits_per_run: null },
    { runs: 5, failed: 2, success_rate: 0.6, median_seconds: 1.5, credits_per_run: 3 },
  ],
};

const platform: PlatformFigures = {
  days: ["2026-12-04"],
  series: [{ runs: 10, failed: 1, users: 3, credits: 40 }],
  queue: { now: 2, running: 1, hours: ["2026-12-04T13:00:00+00:00"], waiting: [4] },
  slowest_blocks: [{ name: "Delay", average_seconds: 2.5, longest_seconds: 9 }],
};

describe("the charts' data", () => {
  it("labels days as people read them", () => {
    expect(dayLabel("2026-12-04")).toBe("4 Dec");
  });

  it("stacks an agent's failed runs on the others", () => {
    const config = agentRuns(agent);
    expect(config.data.labels).toEqual(["3 Dec", "4 Dec"]);
    expect(config.data.datasets.map((d) => d.data)).toEqual([[0, 3], [0, 2]]);
  });

  it("leaves a gap, not a zero, on a day without finished runs", () => {
    const [rate, duration, credits] = agentQuality(agent).data.datasets;
    expect(rate.data).toEqual([null, 60]);
    expect(duration.data).toEqual([null, 1.5]);
    expect(credits.data).toEqual([null, 3]);
  });

  it("draws the queue and the slowest blocks", () => {
    expect(queueDepth(platform).data.datasets[0].data).toEqual([4]);
    const blocks = slowestBlocks(platform);
    expect(blocks.data.labels).toEqual(["Delay"]);
    expect(blocks.data.datasets.map((d) => d.data)).toEqual([[2.5], [9]]);
  });

  it("names every chart a page may ask for", () => {
    expect(Object.keys(CHARTS).sort()).toEqual(
      ["agent-quality", "agent-runs", "platform-runs", "platform-usage", "queue-depth", "slowest-blocks"],
    );
  });
});
