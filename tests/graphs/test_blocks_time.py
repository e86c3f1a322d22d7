"""The clock blocks read the user's time zone; Delay waits and honours cancellation."""

import threading
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from apps.graphs.blocks.base import Block, BlockInputError
from apps.graphs.blocks.context import BlockContext, Cancelled
from apps.graphs.blocks.library.timing import (
    MAX_DELAY_SECONDS,
    CurrentDateAndTimeBlock,
    CurrentDateBlock,
    CurrentTimeBlock,
    DelayBlock,
)
from apps.graphs.kv import DatabaseKeyValueStore
from apps.graphs.runtime import safe_http_client

# No daylight saving in either, and 25 hours apart: their dates always differ.
KIRITIMATI = "Pacific/Kiritimati"  # UTC+14
PAGO_PAGO = "Pacific/Pago_Pago"  # UTC-11


def make_context(timezone: str = "UTC") -> BlockContext:
    return BlockContext(
        user_id="alice",
        kv=DatabaseKeyValueStore(user_id="alice", graph_id=None),
        http=safe_http_client(),
        user_timezone=timezone,
    )


def run(block: Block, data: dict[str, Any], context: BlockContext) -> list[tuple[str, Any]]:
    return list(block.execute(data, context))


def only_value(block: Block, data: dict[str, Any], context: BlockContext, pin: str) -> Any:
    [(yielded_pin, value)] = run(block, data, context)
    assert yielded_pin == pin
    return value


# --- Current time and date ----------------------------------------------------------------------


def test_it_reads_the_time_in_the_users_time_zone() -> None:
    data = {"format": "%H:%M %z"}

    east = only_value(CurrentTimeBlock(), data, make_context(KIRITIMATI), "time")
    west = only_value(CurrentTimeBlock(), data, make_context(PAGO_PAGO), "time")

    assert east.endswith(" +1400")
    assert west.endswith(" -1100")


def test_it_reads_the_current_time() -> None:
    zone = ZoneInfo(KIRITIMATI)
    data = {"format": "%Y-%m-%d %H:%M:%S"}

    before = datetime.now(zone).replace(microsecond=0, tzinfo=None)
    value = only_value(CurrentTimeBlock(), data, make_context(KIRITIMATI), "time")
    after = datetime.now(zone).replace(tzinfo=None)

    assert before <= datetime.strptime(value, data["format"]) <= after


def test_it_formats_the_time_as_hours_minutes_seconds_by_default() -> None:
    value = only_value(CurrentTimeBlock(), {}, make_context(), "time")

    assert len(value) == 8
    datetime.strptime(value, "%H:%M:%S")  # raises unless the shape is right


def test_it_reads_the_date_in_the_users_time_zone() -> None:
    east = only_value(CurrentDateBlock(), {}, make_context(KIRITIMATI), "date")
    west = only_value(CurrentDateBlock(), {}, make_context(PAGO_PAGO), "date")

    assert east > west


@pytest.mark.parametrize("offset", [-1, 0, 30])
def test_it_moves_the_date_by_the_offset(offset: int) -> None:
    zone = ZoneInfo(PAGO_PAGO)
    data = {"offset_days": offset, "format": "%d.%m.%Y %A"}

    before = (datetime.now(zone) + timedelta(days=offset)).strftime(data["format"])
    value = only_value(CurrentDateBlock(), data, make_context(PAGO_PAGO), "date")
    after = (datetime.now(zone) + timedelta(days=offset)).strftime(data["format"])

    assert value in {before, after}  # the date may turn between the reads


def test_it_gives_the_date_and_time_in_iso_format_with_the_offset() -> None:
    value = only_value(CurrentDateAndTimeBlock(), {}, make_context(KIRITIMATI), "date_time")

    moment = datetime.fromisoformat(value)
    assert value.endswith("+14:00")
    assert abs(moment - datetime.now(ZoneInfo("UTC"))) < timedelta(minutes=1)


# --- Delay --------------------------------------------------------------------------------------


def test_it_forwards_the_data_after_the_delay() -> None:
    started = time.monotonic()

    result = run(DelayBlock(), {"seconds": 0.2, "data": {"k": 1}}, make_context())

    assert result == [("output", {"k": 1})]
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("seconds", [-1, MAX_DELAY_SECONDS + 1])
def test_it_refuses_a_delay_out_of_range(seconds: float) -> None:
    with pytest.raises(BlockInputError) as caught:
        run(DelayBlock(), {"seconds": seconds}, make_context())

    assert "seconds" in caught.value.errors


def test_it_is_given_time_for_its_longest_delay() -> None:
    assert DelayBlock.timeout_seconds > MAX_DELAY_SECONDS


def test_it_stops_waiting_as_soon_as_the_run_is_cancelled() -> None:
    context = make_context()
    stopper = threading.Timer(0.1, context.cancel.cancel)
    started = time.monotonic()
    stopper.start()
    try:
        with pytest.raises(Cancelled):
            run(DelayBlock(), {"seconds": 30, "data": "never"}, context)
    finally:
        stopper.cancel()

    assert time.monotonic() - started < 5


def test_it_does_not_wait_at_all_in_a_run_already_cancelled() -> None:
    context = make_context()
    context.cancel.cancel()
    started = time.monotonic()

    with pytest.raises(Cancelled):
        run(DelayBlock(), {"seconds": 30}, context)

    assert time.monotonic() - started < 1
