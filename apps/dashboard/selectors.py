"""Reads the dashboard needs beyond the domain apps' own selectors, built on them (so every
row is still the user's): run lists with graph names, and daily credit usage."""

import datetime
import uuid
from zoneinfo import ZoneInfo

from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from apps.credits.selectors import credit_entries
from apps.executions import selectors as execution_selectors
from apps.executions.models import GraphExecution
from apps.graphs import selectors as graph_selectors
from apps.graphs.models import GraphVersion
from apps.store.models import StoreReview
from apps.users.models import User

RUNS_PER_PAGE = 50
USAGE_DAYS = 30


def _with_graph_name(runs: QuerySet[GraphExecution], user: User) -> QuerySet[GraphExecution]:
    """Each run's graph name, from the versions the user may read (else None)."""
    name = (
        graph_selectors.graph_versions_granted(user=user)
        .filter(graph_id=OuterRef("graph_id"), version=OuterRef("graph_version"))
        .values("name")[:1]
    )
    return runs.annotate(graph_name=Subquery(name))


def run_page(
    *,
    user: User,
    page: int | str = 1,
    graph_id: uuid.UUID | str | None = None,
    status: str | None = None,
    has_errors: bool | None = None,
    per_page: int = RUNS_PER_PAGE,
) -> Page:
    """One page of the user's runs, newest first, each with its graph's name: two queries (three
    on a deep page), a count capped at `EXACT_COUNT_LIMIT` runs and estimated beyond."""
    runs = execution_selectors.graph_execution_list(
        user=user, graph_id=graph_id, status=status, has_errors=has_errors
    )
    runs_paged = execution_selectors.RunList(_with_graph_name(runs, user))
    # Paginator only slices its list; the stubs' protocol also wants int indexing (RunList: none).
    return Paginator(runs_paged, per_page).get_page(page)  # type: ignore[arg-type]


def credit_usage_by_day(
    *, user: User, days: int = USAGE_DAYS, today: datetime.date | None = None
) -> list[tuple[datetime.date, int]]:
    """Credits spent per day (USAGE net of REFUNDs) over the last `days` days in the user's
    time zone, oldest first, every day present (one query)."""
    tz = ZoneInfo(user.timezone)
    today = today or timezone.localdate(timezone=tz)
    first = today - datetime.timedelta(days=days - 1)
    since = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    rows = (
        credit_entries(user_id=user.pk)
        .filter(is_active=True, type__in=["USAGE", "REFUND"], created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    spent = {row["day"]: -row["total"] for row in rows}
    return [
        (day, max(spent.get(day, 0), 0))
        for day in (first + datetime.timedelta(days=n) for n in range(days))
    ]


def run_graph_version(*, user: User, execution: GraphExecution) -> GraphVersion:
    """The version a run of the user's ran, while they may read it: their own graph, a template,
    or the creator's graph of an agent in their library (graph_versions_granted)."""
    return graph_selectors.graph_version_granted(
        user=user, graph_id=execution.graph_id, version=execution.graph_version
    )


def store_review_of(*, user: User, listing_id: uuid.UUID) -> StoreReview | None:
    """The user's newest review of a listing (any of its versions), to prefill the form."""
    return (
        StoreReview.objects.filter(user=user, listing_version__listing_id=listing_id)
        .select_related("listing_version")
        .order_by("-updated_at")
        .first()
    )
