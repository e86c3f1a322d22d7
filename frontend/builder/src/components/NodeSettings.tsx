// A node's run settings (lib/settings.ts): Attempts for blocks that retry, Timeout (s) for
// every block, each empty for the block's default (its placeholder). What is typed is kept in
// the field; only a valid value reaches the node's metadata (an invalid one leaves the default,
// and the field says so). Errors the server marks on these keys show under their field.
import { useEffect, useId, useState } from "react";
import type { Block } from "../api/types";
import type { FlowNode } from "../lib/graph";
import { nodeSettings, parseSetting, settingsSummary, settingText, type NodeSetting } from "../lib/settings";
import { useBuilder } from "./context";

function SettingField({ node, setting }: { node: FlowNode; setting: NodeSetting }) {
  const { readOnly, actions } = useBuilder();
  const stored = node.data.metadata[setting.key];
  const [text, setText] = useState(settingText(stored));
  const parsed = parseSetting(setting, text);
  const applied = parsed.kind === "value" ? parsed.value : undefined;
  // Undo, redo or a restored version changed the metadata under the field: show it.
  useEffect(() => {
    if (stored !== applied) setText(settingText(stored));
    // Only a change of the stored value resets the text, never a keystroke (`applied` left out).
  }, [stored]);
  const id = useId();
  const serverError = node.data.errors[setting.key];
  const error =
    parsed.kind === "invalid"
      ? `${parsed.error}${stored === undefined ? ` Not applied: the default (${setting.fallback}) stays.` : ""}`
      : serverError;
  return (
    <label className="setting" data-setting={setting.key}>
      <span>{setting.label}</span>
      <input
        type="text" inputMode={setting.integer ? "numeric" : "decimal"} value={text} disabled={readOnly}
        placeholder={String(setting.fallback)} aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(event) => {
          setText(event.target.value);
          const next = parseSetting(setting, event.target.value);
          const value = next.kind === "value" ? next.value : undefined;
          if (value !== stored) actions.setMetadata(node.id, setting.key, value);
        }}
      />
      {error && <small className="field-error" id={`${id}-error`} role="alert">{error}</small>}
    </label>
  );
}

export function NodeSettings({ node, block }: { node: FlowNode; block: Block }) {
  const settings = nodeSettings(block);
  const hasError = settings.some((setting) => node.data.errors[setting.key]);
  return (
    <details className="node-settings nodrag" open={hasError || undefined}>
      <summary>{settingsSummary(block, node.data.metadata)}</summary>
      <div className="settings-fields">
        {settings.map((setting) => <SettingField key={setting.key} node={node} setting={setting} />)}
      </div>
    </details>
  );
}
