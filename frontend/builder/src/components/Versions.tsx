// Versions (SPEC §14): the list (number, time, node count, active), open one read-only, make
// one active ("restore"), and what changed between two of them.
import { useEffect, useState } from "react";
import type { Api } from "../api/client";
import type { Block, Graph, GraphMeta } from "../api/types";
import { diffVersions, type VersionDiff } from "../lib/diff";
import type { GraphDoc } from "../lib/graph";

function docOf(graph: Graph): GraphDoc {
  return { nodes: graph.nodes.map((node) => ({ ...node })), links: graph.links };
}

function DiffList({ title, items }: { title: string; items: string[] }) {
  if (!items.length) return null;
  return (
    <div>
      <h4>{title} ({items.length})</h4>
      <ul>{items.map((item, index) => <li key={index}>{item}</li>)}</ul>
    </div>
  );
}

export function Versions({
  api,
  graphId,
  shown,
  blocks,
  refreshKey,
  onRestore,
}: {
  api: Api;
  graphId: string;
  shown: number;
  blocks: Map<string, Block>;
  refreshKey: number;
  onRestore(version: number): void;
}) {
  const [versions, setVersions] = useState<GraphMeta[]>([]);
  const [error, setError] = useState("");
  const [older, setOlder] = useState<number | "">("");
  const [newer, setNewer] = useState<number | "">("");
  const [diff, setDiff] = useState<VersionDiff | null>(null);

  useEffect(() => {
    api.versions(graphId).then(setVersions, (problem) => setError(problem.message));
  }, [api, graphId, refreshKey]);

  const compare = async () => {
    if (older === "" || newer === "") return;
    setError("");
    try {
      const [a, b] = await Promise.all([api.graph(graphId, older), api.graph(graphId, newer)]);
      setDiff(diffVersions(docOf(a), docOf(b), (id) => blocks.get(id)?.name ?? id));
    } catch (problem) {
      setError((problem as Error).message);
    }
  };

  return (
    <section className="panel-section versions" aria-label="Versions" id="versions">
      <h2>Versions</h2>
      {error && <p className="error" role="alert">{error}</p>}
      <table className="table">
        <thead><tr><th>Version</th><th>Saved</th><th>Nodes</th><th /></tr></thead>
        <tbody>
          {versions.map((version) => (
            <tr key={version.version} data-version={version.version} className={version.version === shown ? "current" : undefined}>
              <td>v{version.version}{version.is_active && <span className="badge">active</span>}</td>
              <td><time dateTime={version.created_at}>{new Date(version.created_at).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" })}</time></td>
              <td>{version.node_count ?? "—"}</td>
              <td>
                <div className="version-actions">
                  <a href={`?version=${version.version}`}>Open</a>
                  {!version.is_active && (
                    <button type="button" onClick={() => onRestore(version.version)}>Restore v{version.version}</button>
                  )}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="compare row">
        <label>From <select aria-label="Compare from version" value={older} onChange={(e) => setOlder(Number(e.target.value) || "")}>
          <option value="">—</option>{versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
        </select></label>
        <label>to <select aria-label="Compare to version" value={newer} onChange={(e) => setNewer(Number(e.target.value) || "")}>
          <option value="">—</option>{versions.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
        </select></label>
        <button type="button" onClick={compare} disabled={older === "" || newer === ""}>Compare</button>
      </div>
      {diff && (
        <div className="diff" id="version-diff">
          <DiffList title="Nodes added" items={diff.nodesAdded} />
          <DiffList title="Nodes removed" items={diff.nodesRemoved} />
          <DiffList title="Nodes changed" items={diff.nodesChanged} />
          <DiffList title="Links added" items={diff.linksAdded} />
          <DiffList title="Links removed" items={diff.linksRemoved} />
          {Object.values(diff).every((items) => items.length === 0) && <p>No differences.</p>}
        </div>
      )}
    </section>
  );
}
