// Copy and paste of nodes as graph JSON on the system clipboard, so a selection moves between
// tabs and agents (SPEC §14). The browser's copy/paste events carry the data (no permission
// needed); the toolbar buttons use the asynchronous clipboard API.
import { useCallback, useEffect, useMemo } from "react";
import type { Block } from "../api/types";
import type { Canvas } from "../hooks/useCanvas";
import type { Banner } from "../hooks/useAgent";
import { isEditable } from "../lib/dom";
import { canvasToDoc, docToCanvas, withoutSecrets, parseGraphText, rekeyFragment, type GraphDoc } from "../lib/graph";

const PASTE_OFFSET = { x: 40, y: 40 };

export function useClipboard(
  canvas: Canvas,
  blocks: Map<string, Block>,
  setBanner: (banner: Banner | null) => void, readOnly: boolean) {
  const selection = useCallback((): GraphDoc | null => {
    const { nodes, edges } = canvas.stateRef.current;
    const chosen = nodes.filter((node) => node.selected);
    if (!chosen.length) return null;
    const ids = new Set(chosen.map((node) => node.id));
    const doc = canvasToDoc(chosen, edges.filter((edge) => ids.has(edge.source) && ids.has(edge.target)));
    return withoutSecrets(doc, blocks);
  }, [blocks, canvas.stateRef]);

  const parse = useCallback(
    (text: string): GraphDoc | null => {
      const parsed = parseGraphText(text);
      if (!parsed.ok) {
        setBanner({ kind: "error", title: parsed.error, lines: [] });
        return null;
      }
      return parsed.doc;
    },
    [setBanner],
  );

  const insert = useCallback(
    (doc: GraphDoc) => {
      const taken = new Set(canvas.stateRef.current.nodes.map((node) => node.id));
      // A block unknown here stays an unknown node with its data; pasted nodes become the selection.
      const fragment = docToCanvas(rekeyFragment(doc, taken, PASTE_OFFSET), blocks);
      canvas.edit((current) => ({
        nodes: [
          ...current.nodes.map((node) => (node.selected ? { ...node, selected: false } : node)),
          ...fragment.nodes.map((node) => ({ ...node, selected: true })),
        ],
        edges: [...current.edges.map((edge) => (edge.selected ? { ...edge, selected: false } : edge)), ...fragment.edges],
      }));
      setBanner({ kind: "info", title: `Pasted ${doc.nodes.length} node${doc.nodes.length === 1 ? "" : "s"}.`, lines: [] });
    },
    [blocks, canvas, setBanner],
  );

  const pasteText = useCallback(
    (text: string) => {
      const doc = parse(text);
      if (doc) insert(doc);
    },
    [insert, parse],
  );

  useEffect(() => {
    const onCopy = (event: ClipboardEvent) => {
      if (isEditable(event.target)) return;
      const doc = selection();
      if (!doc || !event.clipboardData) return;
      event.clipboardData.setData("text/plain", JSON.stringify(doc));
      event.preventDefault();
    };
    const onPaste = (event: ClipboardEvent) => {
      if (isEditable(event.target) || readOnly || !event.clipboardData) return;
      event.preventDefault();
      pasteText(event.clipboardData.getData("text/plain"));
    };
    document.addEventListener("copy", onCopy);
    document.addEventListener("paste", onPaste);
    return () => {
      document.removeEventListener("copy", onCopy);
      document.removeEventListener("paste", onPaste);
    };
  }, [pasteText, readOnly, selection]);

  return useMemo(
    () => ({
      parse,
      copyToClipboard: async () => {
        const doc = selection();
        if (!doc) {
          setBanner({ kind: "error", title: "Select the nodes to copy first.", lines: [] });
          return;
        }
        await navigator.clipboard.writeText(JSON.stringify(doc));
        setBanner({ kind: "info", title: `Copied ${doc.nodes.length} node${doc.nodes.length === 1 ? "" : "s"}.`, lines: [] });
      },
      pasteFromClipboard: async () => {
        try {
          pasteText(await navigator.clipboard.readText());
        } catch {
          setBanner({ kind: "error", title: "The clipboard could not be read here: press Ctrl+V on the canvas.", lines: [] });
        }
      },
      duplicate: () => {
        const doc = selection();
        if (doc) insert(doc);
      },
    }),
    [insert, parse, pasteText, selection, setBanner],
  );
}
