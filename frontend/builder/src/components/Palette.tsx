// The block palette: every block by category, searchable by name and description; click (or
// Enter) adds a block at the centre of the view, dragging drops it where it is let go.
import { useMemo, useState } from "react";
import type { Block } from "../api/types";

export const BLOCK_DRAG_TYPE = "application/x-autogpt-block";

export function costText(block: Block): string {
  if (!block.costs.length) return "free";
  const amounts = block.costs.map((cost) => cost.amount);
  const low = Math.min(...amounts);
  const high = Math.max(...amounts);
  const unit = block.costs[0].unit.toLowerCase();
  const credits = low === high ? `${low}` : `${low}–${high}`;
  return `${credits} credit${high === 1 ? "" : "s"} / ${unit}`;
}

export function searchBlocks(blocks: Block[], query: string): Map<string, Block[]> {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const found = blocks.filter((block) => {
    const text = `${block.name} ${block.description}`.toLowerCase();
    return words.every((word) => text.includes(word));
  });
  // Blocks whose name matches come first, and so do their categories: "agent input" finds Agent
  // Input before a block that merely mentions inputs.
  const inName = (block: Block) => words.every((word) => block.name.toLowerCase().includes(word));
  const byCategory = new Map<string, Block[]>();
  for (const block of [...found].sort((a, b) => Number(inName(b)) - Number(inName(a)))) {
    const category = block.categories[0] ?? "OTHER";
    byCategory.set(category, [...(byCategory.get(category) ?? []), block]);
  }
  const rank = (blocks: Block[]) => (words.length && blocks.some(inName) ? 0 : 1);
  return new Map(
    [...byCategory.entries()].sort(([a, x], [b, y]) => rank(x) - rank(y) || a.localeCompare(b)),
  );
}

export function Palette({ blocks, disabled, onAdd }: { blocks: Block[]; disabled: boolean; onAdd(block: Block): void }) {
  const [query, setQuery] = useState("");
  const groups = useMemo(() => searchBlocks(blocks, query), [blocks, query]);
  return (
    <aside className="palette" aria-label="Blocks">
      <label className="palette-search">
        <span className="sr-only">Search blocks</span>
        <input type="search" placeholder="Search blocks…" value={query} onChange={(event) => setQuery(event.target.value)} />
      </label>
      <div className="palette-list">
        {groups.size === 0 && <p className="muted">No block matches “{query}”.</p>}
        {[...groups.entries()].map(([category, found]) => (
          <section key={category} aria-label={category}>
            <h3>{category.replace(/_/g, " ").toLowerCase()}</h3>
            <ul>
              {found.map((block) => (
                <li key={block.id}>
                  <button type="button" className="palette-entry" draggable={!disabled} disabled={disabled}
                    data-block-id={block.id} title={block.description}
                    onClick={() => onAdd(block)}
                    onDragStart={(event) => {
                      event.dataTransfer.setData(BLOCK_DRAG_TYPE, block.id);
                      event.dataTransfer.effectAllowed = "copy";
                    }}>
                    <span className="entry-name">{block.name}</span>
                    <span className="entry-cost">{costText(block)}</span>
                    <span className="entry-description">{block.description}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </aside>
  );
}
