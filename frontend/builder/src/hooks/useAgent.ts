// The agent as the server knows it: loading a version (or a template to start from), saving a
// new agent or a new version, and the lifecycle (restore, duplicate, delete). The server's
// validation decides; a refused graph stays on the canvas with its errors marked.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Api } from "../api/client";
import type { Block, Bootstrap, Graph } from "../api/types";
import { applyNodeErrors, canvasToDoc, docToCanvas, type GraphDoc } from "../lib/graph";
import { autoLayout } from "../lib/layout";
import { openProposal, type OpenedProposal } from "../lib/proposal";
import type { Canvas } from "./useCanvas";

export interface Banner {
  kind: "error" | "info";
  title: string;
  lines: string[];
}

export function errorBanner(title: string, error: unknown): Banner {
  if (error instanceof ApiError) {
    const fields = error.details?.fields;
    const lines =
      fields && typeof fields === "object"
        ? Object.entries(fields as Record<string, unknown>).map(([field, message]) => `${field}: ${String(message)}`)
        : [];
    return { kind: "error", title: `${title}: ${error.message}`, lines };
  }
  return { kind: "error", title: `${title}: ${(error as Error).message}`, lines: [] };
}

export function useAgent(api: Api, boot: Bootstrap, canvas: Canvas, blocks: Map<string, Block> | null) {
  const [graph, setGraph] = useState<Graph | null>(null);
  const [graphId, setGraphId] = useState<string | null>(boot.graphId);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [banner, setBanner] = useState<Banner | null>(null);
  const [saving, setSaving] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const leaving = useRef(false);

  const readOnly = Boolean(graph && boot.version !== null && graph.version === boot.version && !graph.is_active);

  // A graph without saved positions is laid out at once (default sizes), then again once React
  // Flow has measured its nodes (see Builder).
  const needsLayout = useRef(false);
  const show = useCallback(
    (doc: GraphDoc, clean: boolean) => {
      const { nodes, edges, positioned } = docToCanvas(doc, blocks!);
      needsLayout.current = !positioned;
      canvas.load({ nodes: positioned ? nodes : autoLayout(nodes, edges), edges }, clean);
    },
    [blocks, canvas],
  );

  // The graph is fetched at once, beside the block list (both are needed to draw it).
  const source = boot.graphId ?? boot.fromGraphId;
  const fetching = useRef<Promise<Graph> | null>(null);
  if (source && !fetching.current) {
    fetching.current = api.graph(source, boot.graphId ? boot.version : null);
  }

  // A copilot's proposal opens unsaved; Save makes it an agent (or a new version of the agent it
  // changes), like any graph drawn here.
  const proposing = useRef<Promise<OpenedProposal> | null>(null);
  if (boot.proposalId && !source && !proposing.current) {
    proposing.current = api.proposal(boot.proposalId).then(openProposal);
  }

  useEffect(() => {
    if (!blocks || loaded || !proposing.current) return;
    proposing.current.then(
      (opened) => {
        setName(opened.name);
        setDescription(opened.description);
        if (opened.graphId) setGraphId(opened.graphId);
        show(opened.doc, false);
        setBanner({
          kind: "info",
          title: "The copilot's proposal: nothing is saved until you save it.",
          lines: [],
        });
        setLoaded(true);
      },
      (error) => {
        setBanner(errorBanner("The proposal could not be opened", error));
        setLoaded(true);
      },
    );
  }, [blocks, loaded, show]);

  useEffect(() => {
    if (!blocks || loaded || proposing.current) return;
    if (!fetching.current) {
      setLoaded(true);
      return;
    }
    fetching.current.then(
      (found) => {
        if (boot.graphId) setGraph(found);
        setName(boot.graphId ? found.name : found.name);
        setDescription(found.description ?? "");
        // A template or library agent opens as a new, unsaved agent of the user's.
        show({ nodes: found.nodes, links: found.links }, Boolean(boot.graphId));
        setLoaded(true);
      },
      (error) => {
        setBanner(errorBanner("The agent could not be opened", error));
        setLoaded(true);
      },
    );
  }, [api, blocks, boot, loaded, show]);

  // Leaving with unsaved changes asks first (SPEC §14).
  useEffect(() => {
    const guard = (event: BeforeUnloadEvent) => {
      if (canvas.dirty && !leaving.current) {
        event.preventDefault();
        event.returnValue = "";
      }
    };
    window.addEventListener("beforeunload", guard);
    return () => window.removeEventListener("beforeunload", guard);
  }, [canvas.dirty]);

  const leave = useCallback((url: string) => {
    leaving.current = true;
    window.location.assign(url);
  }, []);

  const save = useCallback(async () => {
    const { nodes, edges } = canvas.stateRef.current;
    const body = {
      name: name.trim(),
      description,
      ...canvasToDoc(nodes, edges),
      // A new version keeps the agent's time limit; templates are made by staff elsewhere.
      is_template: false,
      time_limit_seconds: graph?.time_limit_seconds ?? null,
    };
    if (!body.name) {
      setBanner({ kind: "error", title: "Name the agent before saving it.", lines: [] });
      document.getElementById("agent-name")?.focus();
      return;
    }
    setSaving(true);
    try {
      const saved = graphId ? await api.graphUpdate(graphId, body) : await api.graphCreate(body);
      const skipped = graph && saved.version > graph.version + 1;
      canvas.setDirty(false);
      setGraph(saved);
      if (!graphId) {
        setGraphId(saved.id);
        window.history.replaceState(null, "", `${boot.urls.agents}/${saved.id}/edit`);
      }
      const lines = skipped
        ? [`A newer version was saved elsewhere since you opened v${graph!.version}; yours is v${saved.version} and is now active.`]
        : [];
      // Saved; now what a run would refuse (a required input left empty...) is marked at once.
      const check = await api.runCheck(saved.id, saved.version).catch(() => ({ node_errors: {} }));
      const marked = applyNodeErrors(canvas.stateRef.current.nodes, check.node_errors);
      canvas.patch((current) => ({ ...current, nodes: marked.nodes }));
      const problems = Object.keys(check.node_errors).length;
      setBanner(
        problems
          ? {
              kind: "error",
              title: `Saved as version ${saved.version}, but it cannot run yet: ${problems} place${problems === 1 ? "" : "s"} marked on the canvas.`,
              lines: [...lines, ...marked.banner],
            }
          : { kind: "info", title: `Saved as version ${saved.version}.`, lines },
      );
    } catch (error) {
      if (error instanceof ApiError && error.nodeErrors) {
        const marked = applyNodeErrors(canvas.stateRef.current.nodes, error.nodeErrors);
        canvas.patch((current) => ({ ...current, nodes: marked.nodes }));
        const count = Object.keys(error.nodeErrors).length;
        setBanner({
          kind: "error",
          title: `Not saved: the graph has errors (${count} place${count === 1 ? "" : "s"} marked on the canvas). Nothing on the canvas was lost.`,
          lines: marked.banner,
        });
      } else {
        setBanner(errorBanner("Not saved", error));
      }
    } finally {
      setSaving(false);
    }
  }, [api, boot.urls.agents, canvas, description, graph, graphId, name]);

  const restore = useCallback(async () => {
    if (!graphId || !graph) return;
    try {
      await api.versionActivate(graphId, graph.version);
      leave(`${boot.urls.agents}/${graphId}/edit`);
    } catch (error) {
      setBanner(errorBanner("Not restored", error));
    }
  }, [api, boot.urls.agents, graph, graphId, leave]);

  const restoreVersion = useCallback(
    async (version: number) => {
      if (!graphId) return;
      if (canvas.dirty && !window.confirm("Discard your unsaved changes and restore this version?")) return;
      try {
        await api.versionActivate(graphId, version);
        leave(`${boot.urls.agents}/${graphId}/edit`);
      } catch (error) {
        setBanner(errorBanner("Not restored", error));
      }
    },
    [api, boot.urls.agents, canvas.dirty, graphId, leave],
  );

  const duplicate = useCallback(async () => {
    if (!graphId) return;
    try {
      const copy = await api.graphFork(graphId);
      leave(`${boot.urls.agents}/${copy.id}/edit`);
    } catch (error) {
      setBanner(errorBanner("Not duplicated", error));
    }
  }, [api, boot.urls.agents, graphId, leave]);

  const remove = useCallback(async () => {
    if (!graphId) return;
    if (!window.confirm(`Delete “${name}” and all its versions? This cannot be undone.`)) return;
    try {
      await api.graphDelete(graphId);
      leave(boot.urls.agents);
    } catch (error) {
      setBanner(errorBanner("Not deleted", error));
    }
  }, [api, boot.urls.agents, graphId, leave, name]);

  return {
    graph,
    graphId,
    name,
    setName,
    description,
    setDescription,
    banner,
    setBanner,
    saving,
    loaded,
    readOnly,
    needsLayout,
    show,
    save,
    restore,
    restoreVersion,
    duplicate,
    remove,
  };
}
