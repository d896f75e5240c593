"""A fake Vidu API on loopback: `Token` auth, per-model duration/resolution rules, data-URI images,
created -> queueing -> processing -> success, err_code failures, expiring creation URLs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.faults import Faults

API_KEY = "vda_fake_0123456789"


@dataclass
class FakeVidu(Faults):
    video: bytes = b""
    tasks: dict[str, dict] = field(default_factory=dict)
    submits: list[dict] = field(default_factory=list)
    fail_next_with: str | None = None
    polls_until_done: int = 3
    _ids = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/ent/v2/{endpoint}", self.submit)
        app.router.add_get("/ent/v2/tasks/{task_id}/creations", self.query)
        app.router.add_get("/files/{name}", self.file)
        return app

    @staticmethod
    def _error(status: int, err_code: str) -> web.Response:
        return web.json_response({"err_code": err_code, "message": err_code}, status=status)

    async def submit(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Token {API_KEY}":
            return self._error(401, "Unauthorized")
        if (injected := await self.next_fault(self._fault)) is not None:
            return injected
        body = await request.json()
        endpoint, model = request.match_info["endpoint"], body.get("model")
        resolutions = {"viduq2": ["540p", "720p", "1080p"], "viduq1": ["1080p"], "vidu2.0": ["360p", "720p", "1080p"]}
        durations = {"viduq2": range(1, 11), "viduq1": [5], "vidu2.0": [4, 8] if endpoint == "img2video" else [4]}
        family = next((f for f in resolutions if model and model.startswith(f)), None)
        if endpoint == "start-end2video" and family == "viduq2":
            durations[family] = range(1, 9)
        if endpoint not in ("text2video", "img2video", "start-end2video") or family is None:
            return self._error(400, "BadRequest")
        if body.get("resolution") not in resolutions[family] or body.get("duration") not in durations[family]:
            return self._error(400, "BadRequest")
        if endpoint == "text2video":
            if "images" in body or body.get("aspect_ratio") not in ("16:9", "9:16", "1:1", "4:3", "3:4"):
                return self._error(400, "FieldUnwanted" if "images" in body else "BadRequest")
        else:
            images = body.get("images") or []
            if len(images) != (2 if endpoint == "start-end2video" else 1):
                return self._error(400, "FieldItemCountOutOfRange")
            if not all(i.startswith("data:image/") for i in images):
                return self._error(400, "ImageFormatInvalid")
            if "aspect_ratio" in body:
                return self._error(400, "FieldUnwanted")
        task_id = str(next(self._ids))
        self.tasks[task_id] = {"polls": 0, "fail": self.fail_next_with}
        self.fail_next_with = None
        self.submits.append(body)
        return web.json_response({"task_id": task_id, "state": "created", **body, "credits": 20,
                                  "created_at": "2025-01-01T15:41:31.968916Z"})

    async def query(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Token {API_KEY}":
            return self._error(401, "Unauthorized")
        if (injected := await self.next_fault(self._fault)) is not None:
            return injected
        task_id = request.match_info["task_id"]
        task = self.tasks.get(task_id)
        if task is None:
            return self._error(404, "TaskNotFound")
        task["polls"] += 1
        if task["polls"] < self.polls_until_done:
            state = "queueing" if task["polls"] == 1 else "processing"
            return web.json_response({"id": task_id, "state": state, "err_code": "", "creations": []})
        if task["fail"]:
            return web.json_response({"id": task_id, "state": "failed", "err_code": task["fail"], "creations": []})
        url = f"http://{request.host}/files/{task_id}.mp4"
        return web.json_response({"id": task_id, "state": "success", "err_code": "", "credits": 20,
                                  "creations": [{"id": "cr_1", "url": url, "cover_url": url + ".jpg"}]})

    def _fault(self, status: int, kind: str) -> web.Response:
        return self._error(status, "TooManyRequests" if kind == "rate" else "SystemThrottling")

    async def file(self, request: web.Request) -> web.Response:
        return self.file_response(self.video)
