// The builder's toolbar: name and description, save, run, editing and lifecycle actions. Every
// action is a real button (reachable by Tab) and the common ones also have shortcuts.
import { useRef } from "react";

export interface ToolbarProps {
  name: string;
  description: string;
  version: number | null;
  isActive: boolean;
  dirty: boolean;
  readOnly: boolean;
  /** Read-only because the screen is a phone's, not because the version is an old one. */
  phone: boolean;
  saving: boolean;
  canUndo: boolean;
  canRedo: boolean;
  saved: boolean;
  staticEdge: boolean | null;
  onName(name: string): void;
  onDescription(description: string): void;
  onSave(): void;
  onRun(): void;
  onUndo(): void;
  onRedo(): void;
  onLayout(): void;
  onCopy(): void;
  onPaste(): void;
  onDuplicateNodes(): void;
  onExport(): void;
  onImport(text: string): void;
  onVersions(): void;
  onDuplicateAgent(): void;
  onDelete(): void;
  onRestore(): void;
  onStatic(value: boolean): void;
}

export function Toolbar(props: ToolbarProps) {
  const file = useRef<HTMLInputElement>(null);
  const { readOnly, saved } = props;
  return (
    <div className="builder-toolbar" role="toolbar" aria-label="Agent">
      <div className="agent-meta">
        <label>
          <span className="sr-only">Agent name</span>
          <input id="agent-name" aria-label="Agent name" placeholder="Name your agent" value={props.name}
            disabled={readOnly} maxLength={100} onChange={(event) => props.onName(event.target.value)} />
        </label>
        <label>
          <span className="sr-only">Description</span>
          <input id="agent-description" aria-label="Description" placeholder="What it does" value={props.description}
            disabled={readOnly} maxLength={500} onChange={(event) => props.onDescription(event.target.value)} />
        </label>
        <span className="version-tag">
          {props.version ? `v${props.version}${props.isActive ? " (active)" : ""}` : "new agent"}
          {readOnly && " · read-only"}
        </span>
        {props.dirty && <span id="unsaved" className="unsaved" role="status">● Unsaved changes</span>}
      </div>
      <div className="actions">
        {readOnly ? (
          !props.phone && <button type="button" className="button" onClick={props.onRestore}>Restore this version</button>
        ) : (
          <button type="button" className="button" id="save" onClick={props.onSave} disabled={props.saving}
            aria-keyshortcuts="Control+S">{props.saving ? "Saving…" : "Save"}</button>
        )}
        <button type="button" className="button secondary" id="run" onClick={props.onRun} disabled={readOnly || !saved}>Run</button>
        {!readOnly && (
          <>
            <button type="button" onClick={props.onUndo} disabled={!props.canUndo} aria-keyshortcuts="Control+Z">Undo</button>
            <button type="button" onClick={props.onRedo} disabled={!props.canRedo} aria-keyshortcuts="Control+Shift+Z">Redo</button>
            <button type="button" onClick={props.onLayout}>Auto-layout</button>
            <button type="button" onClick={props.onCopy} aria-keyshortcuts="Control+C">Copy</button>
            <button type="button" onClick={props.onPaste} aria-keyshortcuts="Control+V">Paste</button>
            <button type="button" onClick={props.onDuplicateNodes} aria-keyshortcuts="Control+D">Duplicate nodes</button>
          </>
        )}
        {props.staticEdge !== null && !readOnly && (
          <label className="static-toggle">
            <input type="checkbox" checked={props.staticEdge} onChange={(event) => props.onStatic(event.target.checked)} />
            Static link
          </label>
        )}
        <button type="button" onClick={props.onExport}>Export</button>
        <details className="shortcuts">
          <summary>Keys</summary>
          <dl>
            <dt>Tab / Shift+Tab</dt><dd>move between palette, nodes and fields</dd>
            <dt>Enter</dt><dd>add the focused block; select the focused node</dd>
            <dt>Arrows</dt><dd>move the selected nodes</dd>
            <dt>Delete</dt><dd>remove the selected nodes and links</dd>
            <dt>Ctrl+C / Ctrl+V / Ctrl+D</dt><dd>copy, paste, duplicate</dd>
            <dt>Ctrl+Z / Ctrl+Shift+Z</dt><dd>undo, redo</dd>
            <dt>Ctrl+S</dt><dd>save</dd>
            <dt>Links (on a node)</dt><dd>link its pins without dragging</dd>
          </dl>
        </details>
        {!readOnly && (
          <>
            <button type="button" onClick={() => file.current?.click()}>Import</button>
            <input ref={file} type="file" accept=".json,application/json" hidden aria-label="Import a graph file"
              id="import-file" onChange={async (event) => {
                const chosen = event.target.files?.[0];
                if (chosen) props.onImport(await chosen.text());
                event.target.value = "";
              }} />
          </>
        )}
        {saved && (
          <>
            <button type="button" onClick={props.onVersions}>Versions</button>
            <button type="button" onClick={props.onDuplicateAgent}>Duplicate agent</button>
            <button type="button" className="danger" onClick={props.onDelete}>Delete agent</button>
          </>
        )}
      </div>
    </div>
  );
}
