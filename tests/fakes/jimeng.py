"""A fake Volcengine visual API (Jimeng) on loopback: recomputes the request signature and rejects a
wrong one in Volcengine's own error envelope, validates req_key/frames/aspect_ratio/images, requires
polling with the submitted req_key, walks in_queue -> generating -> done, and injects QPS limits."""

from __future__ import annotations

import base64
import binascii
import itertools
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.faults import Faults
from vidgate.providers.volcengine_sign import sign

ACCESS_KEY = "AKLTfakejimeng0123456789"
SECRET_KEY = "fake-jimeng-secret-0123456789=="
T2V = {"jimeng_t2v_v30", "jimeng_t2v_v30_1080p", "jimeng_ti2v_v30_pro"}
I2V = {"jimeng_i2v_first_v30", "jimeng_i2v_first_v30_1080", "jimeng_ti2v_v30_pro"}
ASPECTS = {"16:9", "4:3", "1:1", "3:4", "9:16", "21:9"}


@dataclass
class FakeJimeng(Faults):
    video: bytes = b""
    tasks: dict[str, dict] = field(default_factory=dict)
    submits: list[dict] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)  # business codes to answer the next calls with
    polls_until_done: int = 2
    _ids = itertools.count(7392616336519610409)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self.handle)
        app.router.add_get("/files/{name}", self.file)
        return app

    @staticmethod
    def _business(code: int, message: str, data=None, status: int = 200) -> web.Response:
        return web.json_response({"code": code, "message": message, "request_id": "r", "status": code,
                                  "time_elapsed": "1ms", "data": data}, status=status)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        query = dict(request.query)
        expected = sign(access_key=ACCESS_KEY, secret_key=SECRET_KEY, method="POST", host=request.host, path="/",
                        query=query, body=body, x_date=request.headers.get("X-Date", ""))
        if request.headers.get("Authorization") != expected["Authorization"]:
            return web.json_response({"ResponseMetadata": {"RequestId": "r", "Action": query.get("Action"),
                                      "Error": {"Code": "SignatureDoesNotMatch", "Message": "signature mismatch"}}},
                                     status=401)
        if query.get("Version") != "2022-08-31":
            return self._business(50400, "bad version", status=400)
        if (injected := await self.next_fault(
                lambda status, kind: self._business(50429 if kind == "rate" else 50500, "injected", status=status))):
            return injected
        if self.codes:
            code = self.codes.pop(0)
            messages = {50429: "Request Has Reached API Limit", 50516: "Post Video Risk Not Pass"}
            status = 429 if code in (50429, 50430) else 400 if code // 100 == 505 else 500
            return self._business(code, messages.get(code, "error"), status=status)
        payload = await request.json()
        if query.get("Action") == "CVSync2AsyncSubmitTask":
            return self.submit(payload)
        if query.get("Action") == "CVSync2AsyncGetResult":
            return self.result(request, payload)
        return self._business(50400, "unknown action", status=400)

    def submit(self, body: dict) -> web.Response:
        key = body.get("req_key")
        images = body.get("binary_data_base64")
        if key not in T2V | I2V:
            return self._business(50400, f"invalid req_key {key}", status=400)
        if body.get("frames") not in (121, 241):
            return self._business(50400, "frames must be 121 or 241", status=400)
        if images is None:
            if key not in T2V or body.get("aspect_ratio") not in ASPECTS:
                return self._business(50400, "aspect_ratio invalid", status=400)
        else:
            if key not in I2V or "aspect_ratio" in body or len(images) != 1:
                return self._business(50400, "image-to-video takes exactly one image and no aspect_ratio", status=400)
            try:
                base64.b64decode(images[0], validate=True)
            except binascii.Error:
                return self._business(50411, "Pre Img Risk Not Pass", status=400)
        task_id = str(next(self._ids))
        self.tasks[task_id] = {"req_key": key, "polls": 0}
        self.submits.append(body)
        return self._business(10000, "Success", {"task_id": task_id})

    def result(self, request: web.Request, body: dict) -> web.Response:
        task = self.tasks.get(body.get("task_id", ""))
        if task is None or task["req_key"] != body.get("req_key"):
            return self._business(10000, "Success", {"status": "not_found"})
        task["polls"] += 1
        if task["polls"] == 1:
            return self._business(10000, "Success", {"status": "in_queue"})
        if task["polls"] < self.polls_until_done + 1:
            return self._business(10000, "Success", {"status": "generating"})
        url = f"http://{request.host}/files/{body['task_id']}.mp4"
        return self._business(10000, "Success", {"status": "done", "video_url": url})

    async def file(self, request: web.Request) -> web.Response:
        return self.file_response(self.video)
