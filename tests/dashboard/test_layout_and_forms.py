"""The drawn graph's layout, the run form built from a schema, and the value shaping."""

import datetime
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from apps.dashboard.forms import ProfileForm, RunForm
from apps.dashboard.layout import NODE_HEIGHT, NODE_WIDTH, graph_drawing, pin_label
from apps.dashboard.presenters import node_status, shown_value, timeline, usage_chart
from apps.dashboard.templatetags.dashboard import inputs_summary
from apps.graphs.compile import graph_spec_from_payload
from apps.users.forms import TIMEZONE_REGIONS, timezone_choices
from tests.graphs.graphs import INPUT, NOTE, OUTPUT, PRINT, link, node


def _spec(nodes: list, links: list):
    return graph_spec_from_payload(nodes, links)


def _overlap(a, b) -> bool:
    return not (
        a.x + NODE_WIDTH <= b.x
        or b.x + NODE_WIDTH <= a.x
        or a.y + NODE_HEIGHT <= b.y
        or b.y + NODE_HEIGHT <= a.y
    )


def test_it_places_nodes_in_columns_by_execution_batch_without_overlap() -> None:
    spec = _spec(
        [
            node("in", INPUT, name="topic"),
            node("a", PRINT),
            node("b", PRINT),
            node("join", PRINT),
            node("out", OUTPUT, name="answer"),
            node("note", NOTE, text="hello"),
        ],
        [
            link("in", "result", "a", "text"),
            link("in", "result", "b", "text"),
            link("a", "output", "join", "text"),
            link("b", "output", "join", "text"),
            link("join", "output", "out", "value"),
        ],
    )
    drawing = graph_drawing(spec)
    x = {n.key: n.x for n in drawing.nodes}
    assert x["in"] == x["note"] < x["a"] == x["b"] < x["join"] < x["out"]
    nodes = list(drawing.nodes)
    assert not any(_overlap(p, q) for i, p in enumerate(nodes) for q in nodes[i + 1 :])
    assert all(n.x + NODE_WIDTH <= drawing.width for n in nodes)
    assert all(n.y + NODE_HEIGHT <= drawing.height for n in nodes)
    assert len(drawing.links) == 5
    assert {(lk.source_pin, lk.sink_pin) for lk in drawing.links} == {
        ("result", "text"),
        ("output", "text"),
        ("output", "value"),
    }
    titles = {n.key: (n.title, n.subtitle) for n in drawing.nodes}
    assert titles["in"] == ("Agent Input", "topic")


def test_nodes_on_a_cycle_still_appear_in_a_last_column() -> None:
    spec = _spec(
        [node("in", INPUT, name="t"), node("a", PRINT), node("b", PRINT)],
        [
            link("in", "result", "a", "text"),
            link("a", "output", "b", "text"),
            link("b", "output", "a", "text"),
        ],
    )
    drawing = graph_drawing(spec)
    assert {n.key for n in drawing.nodes} == {"in", "a", "b"}
    x = {n.key: n.x for n in drawing.nodes}
    assert x["a"] == x["b"] > x["in"]


def test_an_empty_graph_draws_an_empty_canvas() -> None:
    drawing = graph_drawing(_spec([], []))
    assert drawing.nodes == ()
    assert drawing.width > 0


def test_long_labels_are_shortened() -> None:
    spec = _spec([{**node("p", PRINT), "label": "L" * 80}], [])
    (drawn,) = graph_drawing(spec).nodes
    assert drawn.title.endswith("…")
    assert len(drawn.title) <= 24


SCHEMA = {
    "type": "object",
    "properties": {
        "count": {"type": "integer", "title": "How many"},
        "ratio": {"type": "number"},
        "loud": {"type": "boolean"},
        "text": {"type": "string", "default": "hi"},
        "options": {"type": "object"},
        "anything": {"title": "anything"},
    },
    "required": ["count", "options"],
}


def test_the_run_form_converts_each_input_to_its_type() -> None:
    form = RunForm(
        {
            "input__count": "3",
            "input__ratio": "0.5",
            "input__loud": "on",
            "input__text": "  spaced  ",
            "input__options": '{"a": [1, 2]}',
            "input__anything": "[1, 2]",
        },
        schema=SCHEMA,
    )
    assert form.is_valid(), form.errors
    assert form.run_inputs() == {
        "count": 3,
        "ratio": 0.5,
        "loud": True,
        "text": "  spaced  ",
        "options": {"a": [1, 2]},
        "anything": [1, 2],
    }
    assert form.fields["input__count"].label == "How many"
    assert form.fields["input__text"].initial == "hi"


def test_the_run_form_reports_bad_json_and_missing_inputs() -> None:
    form = RunForm({"input__options": "{nope", "input__anything": "plain words"}, schema=SCHEMA)
    assert not form.is_valid()
    assert "required" in form.errors["input__count"][0]
    assert "not valid JSON" in form.errors["input__options"][0]
    assert "input__anything" not in form.errors
    deep = RunForm({"input__count": "1", "input__options": "[" * 100_000}, schema=SCHEMA)
    assert not deep.is_valid()
    assert "nested too deeply" in deep.errors["input__options"][0]


@pytest.mark.parametrize(
    ("statuses", "shown"),
    [
        ([], "idle"),
        (["completed", "running"], "running"),
        (["completed", "failed", "completed"], "failed"),
        (["completed", "completed"], "completed"),
        (["queued", "failed"], "queued"),
    ],
)
def test_a_node_shows_its_most_telling_status(statuses: list, shown: str) -> None:
    assert node_status(statuses) == shown


def test_large_values_are_cut_with_the_cut_size_stated() -> None:
    assert shown_value({"a": 1}) == {"text": '{\n  "a": 1\n}', "cut": 0}
    cut = shown_value("x" * 2500)
    assert len(cut["text"]) == 2000
    assert cut["cut"] == 500


def test_the_usage_chart_scales_to_the_peak() -> None:
    today = datetime.date(2026, 1, 31)
    days = [(today - datetime.timedelta(days=n), amount) for n, amount in ((2, 0), (1, 5), (0, 10))]
    chart = usage_chart(days)
    assert (chart.peak, chart.total) == (10, 15)
    ys = [float(point.split(",")[1]) for point in chart.points.split()]
    assert ys[0] > ys[1] > ys[2]
    assert usage_chart([(today, 0)]).peak == 0


def _node_execution(
    key: str, start: int, end: int | None, status: str, **stats: object
) -> SimpleNamespace:
    origin = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return SimpleNamespace(
        id=key,
        node=SimpleNamespace(key=key, block_id="block"),
        status=status,
        sequence=start,
        queued_at=origin + datetime.timedelta(seconds=start),
        started_at=origin + datetime.timedelta(seconds=start),
        ended_at=origin + datetime.timedelta(seconds=end) if end is not None else None,
        input_data={"text": "x"},
        outputs=SimpleNamespace(all=lambda: [SimpleNamespace(pin="output", value="x")]),
        error="",
        stats=stats,
    )


def test_the_timeline_places_bars_on_the_run_so_far() -> None:
    now = datetime.datetime(2026, 1, 1, 0, 0, 10, tzinfo=datetime.UTC)
    rows = timeline(
        [_node_execution("a", 0, 2, "completed"), _node_execution("b", 2, None, "running")],
        {"a": "Print"},
        now=now,
    )
    assert [(r.block_name, r.seconds) for r in rows] == [("Print", 2.0), ("block", None)]
    assert (rows[0].offset_pct, rows[0].width_pct) == (0.0, 20.0)
    assert (rows[1].offset_pct, rows[1].width_pct) == (20.0, 80.0)
    assert rows[0].outputs == [("output", {"text": "x", "cut": 0})]


def test_executions_a_retry_reused_have_no_bar_and_leave_the_span_alone() -> None:
    """They ran in the run before (SPEC §17): their times would stretch this run's span."""
    now = datetime.datetime(2026, 1, 1, 0, 0, 10, tzinfo=datetime.UTC)
    rows = timeline(
        [
            _node_execution("old", -3600, -3599, "completed", reused_from="x"),
            _node_execution("a", 0, 5, "completed"),
        ],
        {},
        now=now,
    )
    assert [row.reused for row in rows] == [True, False]
    assert (rows[1].offset_pct, rows[1].width_pct) == (0.0, 100.0)


@pytest.mark.parametrize(
    ("pin", "shown"),
    [
        ("values_#_topic", "values: topic"),
        ("items_$_0", "items[0]"),
        ("obj_@_name", "obj.name"),
        ("prompt_values_#_a_b", "prompt values: a_b"),
        ("result", "result"),
    ],
)
def test_link_labels_show_pins_as_people_read_them(pin: str, shown: str) -> None:
    assert pin_label(pin) == shown


def test_link_labels_of_one_link_never_share_a_line_and_keep_the_names_in_a_tooltip() -> None:
    spec = _spec(
        [node("i", INPUT, name="topic"), node("o", OUTPUT, name="a_very_long_output")],
        [link("i", "result", "o", "values_#_a_very_long_key_indeed")],
    )
    drawing = graph_drawing(spec)
    (drawn,) = drawing.links
    assert drawn.title == "result → values_#_a_very_long_key_indeed"
    assert drawn.sink_pin.endswith("…")
    assert len(drawn.sink_pin) <= 12
    # Same row: the source label goes below the link, the sink label above it.
    assert drawn.source_y == drawn.sink_y
    html = render_to_string("dashboard/_dag.html", {"drawing": drawing})
    assert f'y="{drawn.source_y + 14}" class="pin">result<' in html
    assert f'y="{drawn.sink_y - 6}" class="pin end">' in html
    # The drawing scales down to its card, not below MIN_SCALE of its size.
    assert f"max-width: {drawing.width}px; min-width: {drawing.min_width}px" in html


def test_time_zones_are_grouped_by_region_with_utc_first_and_no_technical_names() -> None:
    choices = timezone_choices()
    assert choices[0] == ("UTC", "UTC")
    groups = dict(choices[1:])
    assert list(groups) == list(TIMEZONE_REGIONS)
    assert ("Europe/Berlin", "Berlin") in groups["Europe"]
    assert ("America/Argentina/Buenos_Aires", "Argentina / Buenos Aires") in groups["America"]
    names = {name for zones in groups.values() for name, _ in zones}
    assert not names & {"Factory", "localtime", "Etc/GMT+5", "US/Eastern", "GB-Eire"}
    # A zone chosen elsewhere (the API accepts any IANA name) stays selectable.
    assert ("US/Eastern", "US/Eastern") in timezone_choices("US/Eastern")


def test_the_profile_form_guesses_the_browser_zone_only_for_the_utc_default() -> None:
    guessing = ProfileForm(initial={"timezone": "UTC"})
    assert "data-browser-zone" in str(guessing["timezone"])
    chosen = ProfileForm(initial={"timezone": "Asia/Tokyo"})
    assert "data-browser-zone" not in str(chosen["timezone"])
    assert ProfileForm({"name": "", "timezone": "Factory"}).errors["timezone"]


def test_run_inputs_are_summarised_as_people_read_them() -> None:
    assert inputs_summary({"topic": "penguins", "n": 3, "tags": ["a", "b"]}) == (
        'topic: penguins · n: 3 · tags: ["a", "b"]'
    )
    assert inputs_summary({}) == "no inputs"
