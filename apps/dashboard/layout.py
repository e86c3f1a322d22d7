"""A graph version drawn as a layered DAG: columns are the execution batches of
`apps.graphs.analysis`, nodes within a column are ordered to keep links short, and every
coordinate is computed here so the template only writes SVG elements."""

from dataclasses import dataclass

from apps.graphs.analysis import execution_batches
from apps.graphs.blocks.registry import get_block
from apps.graphs.spec import GraphSpec

NODE_WIDTH = 180
NODE_HEIGHT = 54
COLUMN_GAP = 150
ROW_GAP = 34
MARGIN = 24
LABEL_CHARS = 24
# A pin label sits in its half of the gap between columns (10 px text, ~5.5 px a character).
PIN_CHARS = 12
# The drawing shrinks to fit its card down to this scale; a larger graph scrolls instead.
MIN_SCALE = 0.6
ORDERING_SWEEPS = 4


@dataclass(frozen=True)
class DrawnNode:
    key: str
    title: str
    subtitle: str
    x: int
    y: int
    width: int = NODE_WIDTH
    height: int = NODE_HEIGHT


@dataclass(frozen=True)
class DrawnLink:
    path: str
    source_pin: str
    sink_pin: str
    title: str
    source_x: int
    source_y: int
    sink_x: int
    sink_y: int
    is_static: bool


@dataclass(frozen=True)
class Drawing:
    nodes: tuple[DrawnNode, ...]
    links: tuple[DrawnLink, ...]
    width: int
    height: int

    @property
    def min_width(self) -> int:
        return int(self.width * MIN_SCALE)


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pin_label(name: str) -> str:
    """A pin as a person reads it: `values_#_topic` → `values: topic`, `items_$_0` →
    `items[0]`, `a_b` → `a b` (the internal names stay in the link's tooltip)."""
    if "_#_" in name:
        base, _, key = name.partition("_#_")
        return f"{pin_label(base)}: {key}"
    if "_$_" in name:
        base, _, index = name.partition("_$_")
        return f"{pin_label(base)}[{index}]"
    if "_@_" in name:
        base, _, attr = name.partition("_@_")
        return f"{pin_label(base)}.{attr}"
    return name.replace("_", " ")


def _layers(spec: GraphSpec) -> list[list[str]]:
    layers = execution_batches(spec)
    placed = {key for layer in layers for key in layer}
    # Nodes on a cycle never become ready; validation reports them, the drawing still shows them.
    stuck = [node.key for node in spec.nodes if node.key not in placed]
    return [*layers, stuck] if stuck else layers


def _order(layers: list[list[str]], spec: GraphSpec) -> list[list[str]]:
    """Barycentre sweeps: each node moves towards the mean row of its neighbours."""
    neighbours: dict[str, list[str]] = {node.key: [] for node in spec.nodes}
    for link in spec.links:
        if link.source_id in neighbours and link.sink_id in neighbours:
            neighbours[link.sink_id].append(link.source_id)
            neighbours[link.source_id].append(link.sink_id)
    row = {key: index for layer in layers for index, key in enumerate(layer)}
    for _ in range(ORDERING_SWEEPS):
        for layer in layers:

            def weight(key: str) -> float:
                near = [row[other] for other in neighbours[key] if other in row]
                return sum(near) / len(near) if near else row[key]

            layer.sort(key=weight)
            row.update({key: index for index, key in enumerate(layer)})
    return layers


def graph_drawing(spec: GraphSpec) -> Drawing:
    layers = _order([list(layer) for layer in _layers(spec)], spec)
    by_key = {node.key: node for node in spec.nodes}
    tallest = max((len(layer) for layer in layers), default=0)
    height = max(tallest * (NODE_HEIGHT + ROW_GAP) - ROW_GAP, NODE_HEIGHT) + 2 * MARGIN
    nodes: dict[str, DrawnNode] = {}
    for column, layer in enumerate(layers):
        # Centre each column vertically so short columns sit in the middle of tall ones.
        offset = (height - 2 * MARGIN - (len(layer) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP)) // 2
        for index, key in enumerate(layer):
            node = by_key[key]
            block = get_block(node.block_id)
            block_name = block.name if block else "Unknown block"
            nodes[key] = DrawnNode(
                key=key,
                title=_short(node.label or block_name),
                # Input and Output nodes are known by their name; other nodes by their block.
                subtitle=_short(
                    block_name if node.label else str(node.input_default.get("name") or "")
                ),
                x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
                y=MARGIN + offset + index * (NODE_HEIGHT + ROW_GAP),
            )
    links = []
    for link in spec.links:
        source, sink = nodes.get(link.source_id), nodes.get(link.sink_id)
        if source is None or sink is None:
            continue
        x1, y1 = source.x + source.width, source.y + source.height // 2
        x2, y2 = sink.x, sink.y + sink.height // 2
        bend = max(abs(x2 - x1) // 2, 40)
        links.append(
            DrawnLink(
                path=f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}",
                source_pin=_short(pin_label(link.source_name), PIN_CHARS),
                sink_pin=_short(pin_label(link.sink_name), PIN_CHARS),
                title=f"{link.source_name} → {link.sink_name}",
                source_x=x1,
                source_y=y1,
                sink_x=x2,
                sink_y=y2,
                is_static=link.is_static,
            )
        )
    width = len(layers) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + 2 * MARGIN
    return Drawing(
        nodes=tuple(nodes.values()),
        links=tuple(links),
        width=max(width, NODE_WIDTH + 2 * MARGIN),
        height=height,
    )
