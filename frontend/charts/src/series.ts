// Chart configurations from the JSON the dashboard's analytics views answer
// (apps/dashboard/analytics.py). Pure functions: tested without a browser.
import type { ChartConfiguration } from "chart.js";

export interface DayFigures {
  runs: number;
  failed: number;
  success_rate: number | null;
  median_seconds: number | null;
  credits_per_run: number | null;
}

export interface AgentDaily {
  days: string[];
  series: DayFigures[];
}

export interface PlatformDay {
  runs: number;
  failed: number;
  users: number;
  credits: number;
}

export interface PlatformFigures {
  days: string[];
  series: PlatformDay[];
  queue: { now: number; running: number; hours: string[]; waiting: number[] };
  slowest_blocks: { name: string; average_seconds: number; longest_seconds: number }[];
}

const COLOURS = { ok: "#067647", bad: "#b42318", accent: "#4f46e5", warn: "#b54708" };

/** "2026-12-04" → "4 Dec": short labels for a month of days. */
export function dayLabel(iso: string): string {
  const [year, month, day] = iso.split("-").map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
}

/** "2026-12-04T13:00:00+00:00" → "13:00" in the viewer's zone. */
export function hourLabel(iso: string): string {
  return new Date(iso).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
}

const base = { responsive: true, maintainAspectRatio: false, animation: false } as const;

export function agentRuns(data: AgentDaily): ChartConfiguration<"bar"> {
  return {
    type: "bar",
    data: {
      labels: data.days.map(dayLabel),
      datasets: [
        {
          label: "Succeeded or stopped",
          data: data.series.map((d) => d.runs - d.failed),
          backgroundColor: COLOURS.ok,
          stack: "runs",
        },
        { label: "Failed", data: data.series.map((d) => d.failed), backgroundColor: COLOURS.bad, stack: "runs" },
      ],
    },
    options: { ...base, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  };
}

export function agentQuality(data: AgentDaily): ChartConfiguration<"line"> {
  return {
    type: "line",
    data: {
      labels: data.days.map(dayLabel),
      datasets: [
        {
          label: "Success rate (%)",
          data: data.series.map((d) => (d.success_rate === null ? null : Math.round(d.success_rate * 100))),
          borderColor: COLOURS.ok,
          yAxisID: "rate",
          spanGaps: true,
        },
        {
          label: "Median duration (s)",
          data: data.series.map((d) => d.median_seconds),
          borderColor: COLOURS.accent,
          yAxisID: "seconds",
          spanGaps: true,
        },
        {
          label: "Credits per run",
          data: data.series.map((d) => d.credits_per_run),
          borderColor: COLOURS.warn,
          yAxisID: "seconds",
          spanGaps: true,
        },
      ],
    },
    options: {
      ...base,
      scales: {
        rate: { type: "linear", position: "left", min: 0, max: 100 },
        seconds: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
      },
    },
  };
}

export function platformRuns(data: PlatformFigures): ChartConfiguration<"bar"> {
  return agentRuns({
    days: data.days,
    series: data.series.map((d) => ({ ...d, success_rate: null, median_seconds: null, credits_per_run: null })),
  });
}

export function platformUsage(data: PlatformFigures): ChartConfiguration<"line"> {
  return {
    type: "line",
    data: {
      labels: data.days.map(dayLabel),
      datasets: [
        { label: "Active users", data: data.series.map((d) => d.users), borderColor: COLOURS.accent, yAxisID: "users" },
        { label: "Credits spent", data: data.series.map((d) => d.credits), borderColor: COLOURS.warn, yAxisID: "credits" },
      ],
    },
    options: {
      ...base,
      scales: {
        users: { type: "linear", position: "left", beginAtZero: true, ticks: { precision: 0 } },
        credits: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false } },
      },
    },
  };
}

export function queueDepth(data: PlatformFigures): ChartConfiguration<"line"> {
  return {
    type: "line",
    data: {
      labels: data.queue.hours.map(hourLabel),
      datasets: [
        { label: "Runs waiting for a worker", data: data.queue.waiting, borderColor: COLOURS.accent, fill: true, stepped: true },
      ],
    },
    options: { ...base, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  };
}

export function slowestBlocks(data: PlatformFigures): ChartConfiguration<"bar"> {
  return {
    type: "bar",
    data: {
      labels: data.slowest_blocks.map((b) => b.name),
      datasets: [
        { label: "Average (s)", data: data.slowest_blocks.map((b) => b.average_seconds), backgroundColor: COLOURS.accent },
        { label: "Longest (s)", data: data.slowest_blocks.map((b) => b.longest_seconds), backgroundColor: COLOURS.warn },
      ],
    },
    options: { ...base, indexAxis: "y", scales: { x: { beginAtZero: true } } },
  };
}

// What each <canvas data-chart="…"> draws.
export const CHARTS: Record<string, (data: never) => ChartConfiguration> = {
  "agent-runs": agentRuns as (data: never) => ChartConfiguration,
  "agent-quality": agentQuality as (data: never) => ChartConfiguration,
  "platform-runs": platformRuns as (data: never) => ChartConfiguration,
  "platform-usage": platformUsage as (data: never) => ChartConfiguration,
  "queue-depth": queueDepth as (data: never) => ChartConfiguration,
  "slowest-blocks": slowestBlocks as (data: never) => ChartConfiguration,
};
