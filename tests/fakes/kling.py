"""A fake Kling API on loopback, as strict as the documented one: JWT checked (iss/exp/nbf/signature),
fields and values validated per model and endpoint, the documented status sequence, and failure
injection (429, 5xx, hangs, malformed bodies, expiring file URLs)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
from dataclasses import dataclass, field

import jwt
from aiohttp import web

from tests.fakes.faults import Faults

ACCESS_KEY = "AK-fake-kling-0123456789"
SECRET_KEY = "SK-fake-kling-0123456789abcdef0123456789"
MODELS = {"kling-v1", "kling-v1-6", "kling-v2-master", "kling-v2-1-master", "kling-v2-5-turbo", "kling-v2-6", "kling-v3"}
TEXT_FIELDS = {"model_name", "prompt", "negative_prompt", "cfg_scale", "mode", "aspect_ratio", "duration",
               "camera_control", "sound", "watermark_info", "callback_url", "external_task_id"}
IMAGE_FIELDS = (TEXT_FIELDS - {"aspect_ratio"}) | {"image", "image_tail", "static_mask", "dynamic_masks"}


@dataclass
class Task:
    id: str
    family: str
    body: dict
    polls: int = 0
    fail_reason: str | None = None


@dataclass
class FakeKling(Faults):
    video: bytes = b""
    tasks: dict[str, Task] = field(default_factory=dict)
    submits: list[dict] = field(default_factory=list)
    fail_next_with: str | None = None
    polls_until_done: int = 2
    _ids = itertools.count(866889456698785798)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/videos/{family}", self.submit)
        app.router.add_get("/v1/videos/{family}/{task_id}", self.query)
        app.router.add_get("/files/{name}", self.file)
        return app

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message, "request_id": "req-fake", "data": None}, status=status)

    def _auth(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._error(401, 1001, "Authorization header is empty")
        try:
            claims = jwt.decode(header[7:], SECRET_KEY, algorithms=["HS256"], options={"require": ["iss", "exp", "nbf"]})
        except jwt.ExpiredSignatureError:
            return self._error(401, 1004, "token expired")
        except jwt.ImmatureSignatureError:
            return self._error(401, 1003, "token not yet valid")
        except jwt.PyJWTError:
            return self._error(401, 1002, "token invalid")
        if claims["iss"] != ACCESS_KEY:
            return self._error(401, 1000, "authentication failed")
        return None

    def _fault_response(self, status: int, kind: str) -> web.Response:
        return self._error(status, 1302 if kind == "rate" else 5000, "rate limit exceeded" if kind == "rate" else "internal error")

    async def submit(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        if (injected := await self.next_fault(self._fault_response)) is not None:
            return injected
        lose_answer = self.take_lost()
        family = request.match_info["family"]
        if family not in ("text2video", "image2video"):
            return self._error(404, 1202, "no such endpoint")
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return self._error(400, 1200, "body is not JSON")
        problem = self._validate(family, body)
        if problem:
            return self._error(400, 1201, problem)
        task = Task(id=str(next(self._ids)), family=family, body=body, fail_reason=self.fail_next_with)
        self.fail_next_with = None
        self.tasks[task.id] = task
        self.submits.append(body)
        if lose_answer:
            await asyncio.sleep(2)  # created, but the client times out before this answer
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": "req-fake", "data": {
            "task_id": task.id, "task_status": "submitted", "task_info": {"external_task_id": body.get("external_task_id")},
            "created_at": 1774711071284, "updated_at": 1774711071284}})

    @staticmethod
    def _validate(family: str, body: dict) -> str | None:
        allowed = TEXT_FIELDS if family == "text2video" else IMAGE_FIELDS
        unknown = set(body) - allowed
        if unknown:
            return f"unknown field(s) {sorted(unknown)}"
        model = body.get("model_name", "kling-v1")
        if model not in MODELS:
            return f"model_name {model} not found"
        if not body.get("prompt") and family == "text2video":
            return "prompt is required"
        durations = [str(d) for d in range(3, 16)] if model == "kling-v3" else ["5", "10"]
        if body.get("duration", "5") not in durations or not isinstance(body.get("duration", "5"), str):
            return f"duration must be one of {durations} as a string"
        if body.get("mode", "std") not in ("std", "pro"):
            return "mode must be std or pro"
        if "aspect_ratio" in body and body["aspect_ratio"] not in ("16:9", "9:16", "1:1"):
            return "invalid aspect_ratio"
        if "cfg_scale" in body and not model.startswith("kling-v1"):
            return f"cfg_scale is not supported by {model}"
        if family == "image2video":
            image = body.get("image", "")
            if not image or image.startswith("data:"):
                return "image must be base64 without a data: prefix"
            try:
                base64.b64decode(image, validate=True)
            except binascii.Error:
                return "image is not valid base64"
        return None

    async def query(self, request: web.Request) -> web.Response:
        if (denied := self._auth(request)) is not None:
            return denied
        if (injected := await self.next_fault(self._fault_response)) is not None:
            return injected
        wanted = request.match_info["task_id"]
        task = self.tasks.get(wanted) or next(  # Kling also finds tasks by the caller's external_task_id
            (t for t in self.tasks.values() if t.body.get("external_task_id") == wanted), None)
        if task is None or task.family != request.match_info["family"]:
            return self._error(404, 1203, "task not found")
        task.polls += 1
        data = {"task_id": task.id, "task_status_msg": "", "task_info": {}, "created_at": 1774711071284,
                "updated_at": 1774711190000}
        if task.polls < self.polls_until_done:
            data["task_status"] = "processing"
        elif task.fail_reason:
            data.update(task_status="failed", task_status_msg=task.fail_reason)
        else:
            url = f"http://{request.host}/files/{task.id}.mp4"
            data.update(task_status="succeed", task_result={"videos": [{"id": "vid_1", "url": url, "duration": "5.0"}]})
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": "req-fake", "data": data})

    async def file(self, request: web.Request) -> web.Response:
        return self.file_response(self.video)
