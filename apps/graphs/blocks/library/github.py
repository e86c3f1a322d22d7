"""GitHub (SPEC §16 developer): issues, comments, pull requests and files through the REST API,
with a personal access token or an OAuth2 connection; a GitHub Enterprise server is a
credential whose base URL is its API root (https://github.example.com/api/v3)."""

import base64
import binascii
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import quote

from apps.graphs.blocks.base import BlockCategory, BlockOutput, BlockSchema, SchemaField
from apps.graphs.blocks.context import BlockContext
from apps.graphs.blocks.providers import FailureKind, ProviderApi, ProviderBlock, ProviderError

GITHUB = ProviderApi(
    name="github",
    title="GitHub",
    default_base_url="https://api.github.com",
    headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
)
CATEGORIES = frozenset({BlockCategory.DEVELOPER_TOOLS})


def _repo(value: str) -> str:
    """`owner/name` (a github.com URL is accepted too), quoted for a path."""
    cleaned = value.strip().removesuffix(".git").rstrip("/")
    if "github.com/" in cleaned:
        cleaned = cleaned.split("github.com/", 1)[1]
    parts = [part for part in cleaned.split("/") if part]
    if len(parts) != 2:
        raise ProviderError(
            f"{value[:100]!r} is not a repository: give owner/name.", FailureKind.CLIENT_ERROR
        )
    return "/".join(quote(part, safe="") for part in parts)


class GitHubBlock(ProviderBlock):
    api = GITHUB
    credential_types = ("api_key", "oauth2")
    categories = CATEGORIES


def _issue(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": item.get("number"),
        "title": item.get("title", ""),
        "state": item.get("state", ""),
        "url": item.get("html_url", ""),
        "author": (item.get("user") or {}).get("login", ""),
        "body": item.get("body") or "",
        "labels": [label.get("name") for label in item.get("labels") or []],
    }


class GitHubListIssuesBlock(GitHubBlock):
    id = "135b400b-79f6-4a15-b9fa-c227ae3ea0f8"
    name = "GitHub: List Issues"
    description = "Lists a repository's issues (pull requests left out), newest first."

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name", placeholder="octocat/hello-world")
        state: Literal["open", "closed", "all"] = SchemaField("open")
        limit: int = SchemaField(30, ge=1, le=100)

    class Output(BlockOutput):
        issues: list[dict[str, Any]] = SchemaField(
            description="{number, title, state, url, author, body, labels}."
        )
        issue: dict[str, Any] = SchemaField(description="Each issue, one at a time.")

    test_input = [{"repo": "otters/zoo"}, {"repo": "missing/zoo"}]
    test_output = [
        ("issues", lambda issues: [i["number"] for i in issues] == [1]),
        ("issue", lambda issue: issue["title"] == "Otters missing" and issue["author"] == "ada"),
        ("error", "GitHub answered 404 (not found): Not Found."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        rows = self.request(
            context,
            "GET",
            f"repos/{_repo(input_data.repo)}/issues",
            params={"state": input_data.state, "per_page": input_data.limit},
        )
        issues = [_issue(row) for row in rows if "pull_request" not in row]
        yield "issues", issues
        for issue in issues:
            yield "issue", issue


class GitHubCreateIssueBlock(GitHubBlock):
    id = "05b11945-db52-462e-b62a-575c2af93285"
    name = "GitHub: Create Issue"
    description = "Opens an issue in a repository."

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name")
        title: str = SchemaField(description="The issue's title.", max_length=256)
        body: str = SchemaField("", description="Its description (Markdown).")
        labels: list[str] = SchemaField([], advanced=True)

    class Output(BlockOutput):
        number: int = SchemaField(description="The new issue's number.")
        url: str = SchemaField(description="Its page.")

    test_input = [
        {"repo": "otters/zoo", "title": "Feed them", "labels": ["care"]},
        {"repo": "otters/zoo", "title": ""},
    ]
    test_output = [
        ("number", 42),
        ("url", "https://github.example/otters/zoo/issues/42"),
        ("error", "GitHub answered 422 (the request was refused as invalid): Validation Failed."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body: dict[str, Any] = {"title": input_data.title, "body": input_data.body}
        if input_data.labels:
            body["labels"] = input_data.labels
        created = self.request(context, "POST", f"repos/{_repo(input_data.repo)}/issues", json=body)
        yield "number", created["number"]
        yield "url", created.get("html_url", "")


class GitHubCommentBlock(GitHubBlock):
    id = "2db79a73-d91d-48ce-8a61-1470bf93d588"
    name = "GitHub: Comment"
    description = "Adds a comment to an issue or a pull request."

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name")
        number: int = SchemaField(description="The issue's or pull request's number.", ge=1)
        body: str = SchemaField(description="The comment (Markdown).")

    class Output(BlockOutput):
        comment_id: int = SchemaField(description="The comment's id.")
        url: str = SchemaField(description="Its link.")

    test_input = [
        {"repo": "https://github.com/otters/zoo", "number": 1, "body": "On it"},
        {"repo": "not-a-repo", "number": 1, "body": "x"},
    ]
    test_output = [
        ("comment_id", 7),
        ("url", "https://github.example/otters/zoo/issues/1#issuecomment-7"),
        ("error", lambda message: "give owner/name" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        path = f"repos/{_repo(input_data.repo)}/issues/{input_data.number}/comments"
        created = self.request(context, "POST", path, json={"body": input_data.body})
        yield "comment_id", created["id"]
        yield "url", created.get("html_url", "")


class GitHubListPullRequestsBlock(GitHubBlock):
    id = "fb2683ef-1b16-4ee9-90f8-fabde3f7f079"
    name = "GitHub: List Pull Requests"
    description = "Lists a repository's pull requests with their branches."

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name")
        state: Literal["open", "closed", "all"] = SchemaField("open")
        limit: int = SchemaField(30, ge=1, le=100)

    class Output(BlockOutput):
        pull_requests: list[dict[str, Any]] = SchemaField(
            description="{number, title, state, url, author, head, base, draft}."
        )

    test_input = [{"repo": "otters/zoo"}, {"repo": "missing/zoo"}]
    test_output = [
        ("pull_requests", [{"number": 2, "title": "Feed the otters", "state": "open",
                            "url": "https://github.example/otters/zoo/pull/2", "author": "bob",
                            "head": "feed", "base": "main", "draft": False}]),
        ("error", lambda message: message.startswith("GitHub answered 404")),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        rows = self.request(
            context,
            "GET",
            f"repos/{_repo(input_data.repo)}/pulls",
            params={"state": input_data.state, "per_page": input_data.limit},
        )
        yield (
            "pull_requests",
            [
                {
                    "number": row.get("number"),
                    "title": row.get("title", ""),
                    "state": row.get("state", ""),
                    "url": row.get("html_url", ""),
                    "author": (row.get("user") or {}).get("login", ""),
                    "head": (row.get("head") or {}).get("ref", ""),
                    "base": (row.get("base") or {}).get("ref", ""),
                    "draft": bool(row.get("draft")),
                }
                for row in rows
            ],
        )


class GitHubCreatePullRequestBlock(GitHubBlock):
    id = "52317801-5605-433f-928d-6ddd2873e4b8"
    name = "GitHub: Create Pull Request"
    description = "Opens a pull request from `head` into `base`."

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name")
        title: str = SchemaField(description="The pull request's title.")
        head: str = SchemaField(description="The branch with the changes.")
        base: str = SchemaField("main", description="The branch to merge into.")
        body: str = SchemaField("", description="Its description (Markdown).")
        draft: bool = SchemaField(False)

    class Output(BlockOutput):
        number: int = SchemaField(description="The pull request's number.")
        url: str = SchemaField(description="Its page.")

    test_input = [
        {"repo": "otters/zoo", "title": "More fish", "head": "fish"},
        {"repo": "otters/zoo", "title": "Nothing", "head": "main"},
    ]
    test_output = [
        ("number", 5),
        ("url", "https://github.example/otters/zoo/pull/5"),
        ("error", lambda message: "No commits between main and main" in message),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body = {
            "title": input_data.title,
            "head": input_data.head,
            "base": input_data.base,
            "body": input_data.body,
            "draft": input_data.draft,
        }
        created = self.request(context, "POST", f"repos/{_repo(input_data.repo)}/pulls", json=body)
        yield "number", created["number"]
        yield "url", created.get("html_url", "")


def _path(value: str) -> str:
    return "/".join(quote(part, safe="") for part in value.strip("/").split("/") if part)


class GitHubReadFileBlock(GitHubBlock):
    id = "bfdaf0c7-f3c1-4f82-a928-6808b879fecc"
    name = "GitHub: Read File"
    description = "Reads a text file of a repository (at a branch, tag or commit)."

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name")
        path: str = SchemaField(description="The file's path, e.g. docs/README.md.")
        ref: str = SchemaField("", description="Branch, tag or commit; default branch if empty.")

    class Output(BlockOutput):
        content: str = SchemaField(description="The file's text.")
        sha: str = SchemaField(description="The file's blob sha (needed to update it).")

    test_input = [
        {"repo": "otters/zoo", "path": "docs/otters.md"},
        {"repo": "otters/zoo", "path": "nope.md"},
    ]
    test_output = [
        ("content", "# Otters\nThey hold hands.\n"),
        ("sha", "abc123"),
        ("error", "GitHub answered 404 (not found): Not Found."),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        path = f"repos/{_repo(input_data.repo)}/contents/{_path(input_data.path)}"
        item = self.request(context, "GET", path, params={"ref": input_data.ref})
        if not isinstance(item, dict) or item.get("type") != "file":
            raise ProviderError(f"{input_data.path} is not a file.", FailureKind.CLIENT_ERROR)
        try:
            data = base64.b64decode(item.get("content", ""))
            yield "content", data.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise ProviderError(
                f"{input_data.path} is not a UTF-8 text file.", FailureKind.CLIENT_ERROR
            ) from None
        yield "sha", item.get("sha", "")


class GitHubWriteFileBlock(GitHubBlock):
    id = "cd4904f7-cbef-4026-86bc-184d91111d75"
    name = "GitHub: Write File"
    description = (
        "Creates or updates a text file with a commit; updating needs the current `sha` "
        "(from Read File), so a concurrent change is not overwritten."
    )

    class Input(BlockSchema):
        repo: str = SchemaField(description="owner/name")
        path: str = SchemaField(description="The file's path.")
        content: str = SchemaField(description="The new text.")
        message: str = SchemaField(description="The commit message.")
        sha: str = SchemaField("", description="The current blob sha, to update a file.")
        branch: str = SchemaField("", description="Default branch if empty.")

    class Output(BlockOutput):
        commit_sha: str = SchemaField(description="The new commit.")
        sha: str = SchemaField(description="The file's new blob sha.")

    test_input = [
        {"repo": "otters/zoo", "path": "docs/new.md", "content": "hi", "message": "Add"},
        {"repo": "otters/zoo", "path": "docs/otters.md", "content": "x", "message": "Edit",
         "sha": "stale"},
    ]  # fmt: skip
    test_output = [
        ("commit_sha", "c0ffee"),
        ("sha", "def456"),
        ("error", lambda message: message.startswith("GitHub answered 409 (a conflict)")),
    ]

    def call(self, input_data: Input, context: BlockContext) -> Iterator[tuple[str, Any]]:
        body: dict[str, Any] = {
            "message": input_data.message,
            "content": base64.b64encode(input_data.content.encode()).decode("ascii"),
        }
        if input_data.sha:
            body["sha"] = input_data.sha
        if input_data.branch:
            body["branch"] = input_data.branch
        path = f"repos/{_repo(input_data.repo)}/contents/{_path(input_data.path)}"
        answer = self.request(context, "PUT", path, json=body)
        yield "commit_sha", (answer.get("commit") or {}).get("sha", "")
        yield "sha", (answer.get("content") or {}).get("sha", "")
