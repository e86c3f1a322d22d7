"""The providers' API subsets of the fake server (tests/providers/server.py), one method per
top-level path segment. Each answers like the real API, errors included (its own 401 and
404 shapes, Slack's `ok: false`, Telegram's `description`)."""

import base64
import time
from typing import Any
from urllib.parse import parse_qs

from tests.providers import pages

FILE_TEXT = "# Otters\nThey hold hands.\n"


class Routes:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sent_mail: list[dict[str, Any]] = []
        self.sheet_rows: list[list[Any]] = [["name", "age"], ["Ada", "36"]]

    # --- public web ---------------------------------------------------------------------------

    def web(self, h: Any, parts: list[str]) -> None:
        name = parts[0] if parts else ""
        if name == "page.html":
            h.text(200, pages.PAGE)
        elif name == "feed.xml":
            h.text(200, pages.FEED, "application/rss+xml")
        else:
            h.text(404, "<h1>Not found</h1>")

    def errors(self, h: Any, parts: list[str]) -> None:
        kind = parts[0] if parts else ""
        if kind == "malformed":
            h.text(200, "{not json", "application/json")
        elif kind == "huge":
            h.text(200, "x" * 200_000, "text/plain")
        elif kind == "slow":
            time.sleep(float(h.query.get("seconds", "3")))
            h.json(200, {"late": True})
        elif kind == "limited":
            h.json(429, {"message": "slow down"}, {"Retry-After": "7"})
        elif kind == "down":
            h.json(502, {"message": "bad gateway"})
        elif kind == "refresh":  # accepts only tokens the OAuth2 server issued
            if h.authorised():
                h.json(200, {"ok": True, "token": h.token()})
            else:
                h.json(401, {"message": "token expired"})

    def graphql(self, h: Any, parts: list[str]) -> None:
        if h.headers.get("Authorization") != "Bearer gql-secret":
            h.json(401, {"message": "unauthorised"})
        elif "broken" in (h.body or {}).get("query", ""):
            h.json(200, {"errors": [{"message": "Syntax Error: Expected Name, found <EOF>."}]})
        else:
            h.json(200, {"data": {"otter": {"name": "Olive"}}})

    def searxng(self, h: Any, parts: list[str]) -> None:
        if h.headers.get("X-Searx-Token") != "searx-secret":
            h.json(403, {"message": "forbidden"})
        elif h.query.get("q") == "fail":
            h.json(503, {"message": "all engines failed"})
        elif h.query.get("format") != "json":
            h.text(200, "<html>results</html>")
        else:
            hit = {"title": "Sea otter", "url": "https://en.example.org/otter",
                   "content": "About sea otters", "engine": "wiki"}  # fmt: skip
            h.json(200, {"query": h.query["q"], "results": [hit, {**hit, "title": "Otter 2"}]})

    # --- GitHub -------------------------------------------------------------------------------

    def github(self, h: Any, parts: list[str]) -> None:
        if not h.authorised():
            h.json(401, {"message": "Bad credentials"})
            return
        if len(parts) < 4 or parts[0] != "repos" or parts[1] == "missing":
            h.json(404, {"message": "Not Found"})
            return
        owner, repo, what, rest = parts[1], parts[2], parts[3], parts[4:]
        web = f"https://github.example/{owner}/{repo}"
        if what == "issues" and not rest and h.command == "GET":
            h.json(200, [
                {"number": 1, "title": "Otters missing", "state": "open", "body": "Find them",
                 "html_url": f"{web}/issues/1", "user": {"login": "ada"}, "labels": []},
                {"number": 2, "title": "A PR", "state": "open", "body": "",
                 "html_url": f"{web}/pull/2", "user": {"login": "bob"}, "labels": [],
                 "pull_request": {"url": "x"}},
            ])  # fmt: skip
        elif what == "issues" and not rest and h.command == "POST":
            if not (h.body or {}).get("title"):
                h.json(422, {"message": "Validation Failed"})
                return
            h.json(201, {"number": 42, "html_url": f"{web}/issues/42", "title": h.body["title"]})
        elif what == "issues" and rest[1:] == ["comments"] and h.command == "POST":
            h.json(201, {"id": 7, "html_url": f"{web}/issues/{rest[0]}#issuecomment-7"})
        elif what == "pulls" and h.command == "GET":
            h.json(200, [
                {"number": 2, "title": "Feed the otters", "state": "open",
                 "html_url": f"{web}/pull/2", "user": {"login": "bob"},
                 "head": {"ref": "feed"}, "base": {"ref": "main"}, "draft": False},
            ])  # fmt: skip
        elif what == "pulls" and h.command == "POST":
            body = h.body or {}
            if body.get("head") == body.get("base"):
                h.json(422, {"message": "Validation Failed: No commits between main and main"})
                return
            h.json(201, {"number": 5, "html_url": f"{web}/pull/5"})
        elif what == "contents" and h.command == "GET":
            if rest != ["docs", "otters.md"]:
                h.json(404, {"message": "Not Found"})
                return
            encoded = base64.b64encode(FILE_TEXT.encode()).decode()
            content = encoded[:20] + "\n" + encoded[20:]  # GitHub wraps base64 lines
            h.json(200, {"type": "file", "encoding": "base64", "sha": "abc123",
                         "size": len(FILE_TEXT), "content": content})  # fmt: skip
        elif what == "contents" and h.command == "PUT":
            body = h.body or {}
            if rest == ["docs", "otters.md"] and body.get("sha") != "abc123":
                h.json(409, {"message": "docs/otters.md does not match abc123"})
                return
            h.json(201, {"content": {"sha": "def456", "html_url": f"{web}/blob/main/x"},
                         "commit": {"sha": "c0ffee"}})  # fmt: skip
        else:
            h.json(404, {"message": "Not Found"})

    # --- Slack, Discord, Telegram -----------------------------------------------------------

    def slack(self, h: Any, parts: list[str]) -> None:
        method = parts[0] if parts else ""
        if not h.authorised():
            h.json(200, {"ok": False, "error": "invalid_auth"})
        elif method == "chat.postMessage":
            channel = (h.body or {}).get("channel")
            if channel == "C404":
                h.json(200, {"ok": False, "error": "channel_not_found"})
            else:
                h.json(200, {"ok": True, "channel": channel, "ts": "1767225600.000100"})
        elif method == "conversations.history" and h.query.get("channel") == "C404":
            h.json(200, {"ok": False, "error": "channel_not_found"})
        elif method == "conversations.history":
            h.json(200, {"ok": True, "messages": [
                {"type": "message", "user": "U1", "text": "otters at noon", "ts": "1767225600.1"},
                {"type": "message", "user": "U2", "text": "on my way", "ts": "1767225500.2"},
            ]})  # fmt: skip
        else:
            h.json(200, {"ok": False, "error": "unknown_method"})

    def discord(self, h: Any, parts: list[str]) -> None:
        if not h.authorised("Bot"):
            h.json(401, {"message": "401: Unauthorized", "code": 0})
        elif len(parts) != 3 or parts[0] != "channels" or parts[1] == "404":
            h.json(404, {"message": "Unknown Channel", "code": 10003})
        elif h.command == "POST":
            content = (h.body or {}).get("content", "")
            h.json(200, {"id": "1001", "channel_id": parts[1], "content": content})
        else:
            h.json(200, [
                {"id": "1002", "content": "otters!", "author": {"username": "ada"},
                 "timestamp": "2026-11-02T09:00:00+00:00"},
            ])  # fmt: skip

    def telegram(self, h: Any, parts: list[str]) -> None:
        if len(parts) != 2 or parts[0] != f"bot{'test-token'}":
            h.json(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        body = h.body or {}
        if parts[1] == "sendMessage":
            if str(body.get("chat_id")) == "0":
                h.json(400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: chat not found"})  # fmt: skip
                return
            h.json(200, {"ok": True, "result": {"message_id": 5, "text": body.get("text"),
                                                "chat": {"id": body.get("chat_id")}}})  # fmt: skip
        elif parts[1] == "getUpdates" and h.query.get("offset") == "999":
            conflict = "Conflict: terminated by other getUpdates request"
            h.json(409, {"ok": False, "error_code": 409, "description": conflict})
        elif parts[1] == "getUpdates":
            h.json(200, {"ok": True, "result": [
                {"update_id": 11, "message": {"message_id": 3, "date": 1767225600,
                 "from": {"username": "ada"}, "chat": {"id": 42}, "text": "hello bot"}},
            ]})  # fmt: skip
        else:
            h.json(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    # --- Notion ---------------------------------------------------------------------------------

    def notion(self, h: Any, parts: list[str]) -> None:
        if not h.authorised():
            h.json(401, {"object": "error", "status": 401, "code": "unauthorized",
                         "message": "API token is invalid."})  # fmt: skip
            return
        if not h.headers.get("Notion-Version"):
            h.json(400, {"object": "error", "message": "Notion-Version header missing"})
            return
        missing = {"object": "error", "status": 404, "code": "object_not_found",
                   "message": "Could not find the object."}  # fmt: skip
        parent = str((h.body or {}).get("parent"))
        if "missing" in parts or (parts == ["pages"] and "missing" in parent):
            h.json(404, missing)
        elif parts == ["pages"] and h.command == "POST":
            h.json(200, {"object": "page", "id": "page-1", "url": "https://notion.example/page-1"})
        elif parts[:1] == ["databases"] and parts[2:] == ["query"]:
            h.json(200, {"object": "list", "has_more": False, "results": [
                {"object": "page", "id": "row-1", "url": "https://notion.example/row-1",
                 "properties": {
                     "Name": {"type": "title", "title": [{"plain_text": "Olive"}]},
                     "Count": {"type": "number", "number": 3},
                     "Tags": {"type": "multi_select", "multi_select": [{"name": "sea"}]},
                 }},
            ]})  # fmt: skip
        elif parts[:1] == ["blocks"] and parts[2:] == ["children"]:
            h.json(200, {"object": "list", "has_more": False, "results": [
                {"type": "heading_1", "heading_1": {"rich_text": [{"plain_text": "Otters"}]}},
                {"type": "paragraph", "paragraph": {"rich_text": [
                    {"plain_text": "They "}, {"plain_text": "swim."}]}},
                {"type": "to_do", "to_do": {"rich_text": [{"plain_text": "feed"}],
                                            "checked": True}},
            ]})  # fmt: skip
        else:
            h.json(404, missing)

    # --- Google -------------------------------------------------------------------------------

    def google(self, h: Any, parts: list[str]) -> None:
        if not h.authorised():
            h.json(401, {"error": {"code": 401, "message": "Invalid Credentials",
                                   "status": "UNAUTHENTICATED"}})  # fmt: skip
            return
        not_found = {"error": {"code": 404, "message": "Requested entity was not found.",
                               "status": "NOT_FOUND"}}  # fmt: skip
        path = "/".join(parts)
        if "missing" in parts:
            h.json(404, not_found)
        elif parts[:2] == ["v4", "spreadsheets"] and len(parts) == 5:
            values = parts[4]
            if values.endswith(":append") and h.command == "POST":
                rows = (h.body or {}).get("values") or []
                self.sheet_rows.extend(rows)
                h.json(200, {"updates": {"updatedRange": f"Sheet1!A{len(self.sheet_rows)}",
                                         "updatedRows": len(rows)}})  # fmt: skip
            else:
                h.json(200, {"range": values, "majorDimension": "ROWS", "values": self.sheet_rows})
        elif path == "gmail/v1/users/me/messages/send" and h.command == "POST":
            raw = (h.body or {}).get("raw", "")
            decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
            if "bounce@" in decoded:
                h.json(400, {"error": {"code": 400, "message": "Invalid To header"}})
                return
            self.sent_mail.append({"raw": decoded})
            h.json(200, {"id": "msg-1", "threadId": "thread-1", "labelIds": ["SENT"]})
        elif parts[:2] == ["calendar", "v3"] and parts[-1] == "events":
            if h.command == "POST":
                body = h.body or {}
                h.json(200, {"id": "evt-2", "summary": body.get("summary"),
                             "htmlLink": "https://calendar.example/evt-2"})  # fmt: skip
            else:
                h.json(200, {"items": [
                    {"id": "evt-1", "summary": "Otter watch", "htmlLink": "https://cal/evt-1",
                     "start": {"dateTime": "2026-12-05T10:00:00Z"},
                     "end": {"dateTime": "2026-12-05T11:00:00Z"}, "location": "Pier 39"},
                ]})  # fmt: skip
        else:
            h.json(404, not_found)

    # --- OAuth2 -------------------------------------------------------------------------------

    def oauth(self, h: Any, parts: list[str]) -> None:
        if parts == ["authorize"]:
            h.send_response(302)
            h.send_header("Location", h.server.authorize(h.query))
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif parts == ["token"] and h.command == "POST":
            form = {key: values[-1] for key, values in parse_qs(h.raw.decode()).items()}
            basic = h.token("Basic")
            status, payload = h.server.token_answer(form, basic)
            h.json(status, payload)
        else:
            h.json(404, {"error": "not_found"})
