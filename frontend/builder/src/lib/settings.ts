// A node's run settings (SPEC §17), kept in its metadata and saved with the graph:
// `max_attempts` (how many attempts a node of a block with a retry policy gets; the block's
// `retry_policy.max_attempts` is the default) and `timeout_seconds` (the block's
// `timeout_seconds` is the default). An empty field means the default: the key is removed.
import type { Block } from "../api/types";
import type { NodeData } from "./graph";

export const MAX_ATTEMPTS = 10;
export const MAX_TIMEOUT_SECONDS = 86_400;

export type SettingKey = "max_attempts" | "timeout_seconds";

export interface NodeSetting {
  key: SettingKey;
  label: string;
  /** The block's own value, shown as the placeholder of an empty field. */
  fallback: number;
  /** What a valid value is, in words. */
  rule: string;
  integer: boolean;
  min: number;
  max: number;
}

/** The settings a node of `block` offers: Attempts only when the block retries at all. */
export function nodeSettings(block: Block): NodeSetting[] {
  const settings: NodeSetting[] = [];
  if (block.retry_policy) {
    settings.push({
      key: "max_attempts",
      label: "Attempts",
      fallback: block.retry_policy.max_attempts,
      rule: `a whole number from 1 to ${MAX_ATTEMPTS}`,
      integer: true,
      min: 1,
      max: MAX_ATTEMPTS,
    });
  }
  settings.push({
    key: "timeout_seconds",
    label: "Timeout (s)",
    fallback: block.timeout_seconds,
    rule: `seconds, more than 0 and at most ${MAX_TIMEOUT_SECONDS}`,
    integer: false,
    min: 0,
    max: MAX_TIMEOUT_SECONDS,
  });
  return settings;
}

export type ParsedSetting =
  | { kind: "default" }
  | { kind: "value"; value: number }
  | { kind: "invalid"; error: string };

const WHOLE = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/** Typed text → the metadata value, the default (empty) or why it is not one. Only plain ASCII
 * digits: no sign, exponent or other scripts' digits. Attempts are whole and at least 1; a
 * timeout is more than 0 seconds. */
export function parseSetting(setting: NodeSetting, text: string): ParsedSetting {
  const trimmed = text.trim();
  if (!trimmed) return { kind: "default" };
  const invalid: ParsedSetting = { kind: "invalid", error: `${setting.label}: ${setting.rule}.` };
  if (!(setting.integer ? WHOLE : DECIMAL).test(trimmed)) return invalid;
  const value = Number(trimmed);
  const aboveMin = setting.integer ? value >= setting.min : value > setting.min;
  if (!aboveMin || value > setting.max) return invalid;
  return { kind: "value", value };
}

/** A stored value as the field shows it ("" for the default). */
export function settingText(value: unknown): string {
  return typeof value === "number" || typeof value === "string" ? String(value) : "";
}

/** Node data with one metadata key set, or removed when `value` is undefined; an error the
 * server marked on that key goes (the value it was about has changed). */
export function withMetadata(data: NodeData, key: string, value: unknown): NodeData {
  const metadata = { ...data.metadata };
  if (value === undefined) delete metadata[key];
  else metadata[key] = value;
  const errors = { ...data.errors };
  delete errors[key];
  return { ...data, metadata, errors };
}

/** The settings section's summary: the ones set on the node, or that the defaults apply. */
export function settingsSummary(block: Block, metadata: Record<string, unknown>): string {
  const set = nodeSettings(block)
    .filter((setting) => metadata[setting.key] !== undefined)
    .map((setting) =>
      setting.key === "max_attempts"
        ? `${settingText(metadata[setting.key])} attempts`
        : `${settingText(metadata[setting.key])} s timeout`,
    );
  return set.length ? `Settings: ${set.join(", ")}` : "Settings: block defaults";
}
