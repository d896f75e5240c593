"""Adapters are pure: request building and response parsing, fed recorded upstream JSON."""

import json
import warnings

import jwt
import pytest

from vidgate.config import SettingsError, load_settings
from vidgate.domain.errors import InvalidRequest
from vidgate.domain.video import VideoStatus
from vidgate.providers.base import ProviderConfig, Secret, UpstreamError, UpstreamJob
from vidgate.providers.kling import KlingAdapter, make_token
from vidgate.providers.openai_format import OpenAIFormatAdapter

KLING = KlingAdapter(ProviderConfig(name="k", kind="kling", base_url="https://api-singapore.klingai.com",
                                    credentials={"access_key": Secret("AK-0123456789"),
                                                 "secret_key": Secret("SK-0123456789abcdef0123456789abcdef")}))
JOB = UpstreamJob(video_id="video_1", upstream_model="kling-v2-6", prompt="fox", width=1280, height=720, seconds=5)


def test_kling_jwt_matches_the_documented_vector():
    vector = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3MzU2OTE0MDAsImlzcyI6IkFLRVhBTVBMRSIsIm5iZiI6MTcz"
              "NTY4OTU5NX0.gJPWBhMcrSoAm1dXY2kFqC7O30zJ5EF2fFqmhOga3AM")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)  # the vector's key is 9 bytes
        ours = make_token("AKEXAMPLE", "SKEXAMPLE", 1735689600)
        options = {"verify_exp": False, "verify_nbf": False}
        expected = jwt.decode(vector, "SKEXAMPLE", algorithms=["HS256"], options=options)
        assert jwt.decode(ours, "SKEXAMPLE", algorithms=["HS256"], options=options) == expected
    assert expected == {"iss": "AKEXAMPLE", "exp": 1735691400, "nbf": 1735689595}
    assert jwt.get_unverified_header(ours) == {"alg": "HS256", "typ": "JWT"}


def test_kling_request_building():
    request = KLING.submit_request(JOB, 1735689600)
    assert request.url == "https://api-singapore.klingai.com/v1/videos/text2video"
    assert request.headers["Authorization"].startswith("Bearer ey")
    assert json.loads(request.body) == {"model_name": "kling-v2-6", "prompt": "fox", "duration": "5", "mode": "std",
                                        "aspect_ratio": "16:9", "external_task_id": "video_1"}


@pytest.mark.parametrize("change, param", [
    ({"width": 1000, "height": 1000}, "size"),
    ({"seconds": 8}, "seconds"),
    ({"metadata": {"callback_url": "http://evil"}}, "metadata"),
    ({"metadata": {"cfg_scale": 0.5}}, "metadata.cfg_scale"),
])
def test_kling_refuses_what_it_cannot_honour(change, param):
    with pytest.raises(InvalidRequest) as err:
        KLING.check(UpstreamJob(**{**JOB.__dict__, **change}))
    assert err.value.param == param


def test_kling_v3_durations_and_v1_cfg_scale():
    KLING.check(UpstreamJob(**{**JOB.__dict__, "upstream_model": "kling-v3", "seconds": 8}))
    KLING.check(UpstreamJob(**{**JOB.__dict__, "upstream_model": "kling-v1-6", "metadata": {"cfg_scale": 0.3}}))


def envelope(data, code=0, message="SUCCEED"):
    return json.dumps({"code": code, "message": message, "request_id": "r", "data": data}).encode()


def test_kling_poll_parsing():
    parse = KLING.parse_poll
    assert parse(200, envelope({"task_status": "submitted"})).status is VideoStatus.QUEUED
    assert parse(200, envelope({"task_status": "processing"})).status is VideoStatus.IN_PROGRESS
    done = parse(200, envelope({"task_status": "succeed", "task_result": {"videos": [{"url": "https://cdn/x.mp4"}]}}))
    assert (done.status, done.video_url) == (VideoStatus.COMPLETED, "https://cdn/x.mp4")
    no_url = parse(200, envelope({"task_status": "succeed", "task_result": {"videos": []}}))
    assert (no_url.status, no_url.error_code) == (VideoStatus.FAILED, "upstream_no_output")
    failed = parse(200, envelope({"task_status": "failed", "task_status_msg": "Image pixel is invalid"}))
    assert failed.status is VideoStatus.FAILED and "Image pixel is invalid" in failed.error_message
    with pytest.raises(UpstreamError) as err:
        parse(200, envelope({"task_status": "paused"}))
    assert err.value.retryable and err.value.code == "upstream_unknown_status"


@pytest.mark.parametrize("status, code, ours, retryable", [
    (401, 1002, "upstream_auth_failed", False),
    (429, 1102, "upstream_quota_exhausted", False),
    (400, 1301, "content_policy_violation", False),
    (429, 1302, "upstream_rate_limited", True),
    (429, 1303, "upstream_concurrency_limited", True),
    (500, 5000, "upstream_unavailable", True),
])
def test_kling_error_codes(status, code, ours, retryable):
    with pytest.raises(UpstreamError) as err:
        KLING.parse_submit(JOB, status, envelope(None, code=code, message="m"))
    assert (err.value.code, err.value.retryable, err.value.ambiguous) == (ours, retryable, False)


def test_kling_submit_records_the_endpoint_family():
    image_job = UpstreamJob(**{**JOB.__dict__, "image": b"\x89PNG..."})
    submitted = KLING.parse_submit(image_job, 200, envelope({"task_id": "866", "task_status": "submitted"}))
    assert (submitted.task_id, submitted.state) == ("866", {"family": "image2video"})
    assert KLING.poll_request(submitted, 0).url.endswith("/v1/videos/image2video/866")
    with pytest.raises(UpstreamError) as err:
        KLING.parse_submit(JOB, 502, b"<html>")
    assert err.value.retryable


OPENAI = OpenAIFormatAdapter(ProviderConfig(name="o", kind="openai", base_url="http://up:8080",
                                            credentials={"api_key": Secret("sk-upstream")}))


def test_openai_format_mapping():
    request = OPENAI.submit_request(UpstreamJob(**{**JOB.__dict__, "upstream_model": "sora-2", "image": b"png",
                                                   "image_media_type": "image/png"}), 0)
    body = json.loads(request.body)
    assert body["input_reference"] == {"image_url": "data:image/png;base64,cG5n"}
    assert (body["seconds"], body["size"], request.headers["Authorization"]) == ("5", "1280x720", "Bearer sk-upstream")
    video = {"id": "video_9", "object": "video", "status": "in_progress", "progress": 40}
    assert OPENAI.parse_poll(200, json.dumps(video).encode()).progress == 40
    done = OPENAI.parse_poll(200, json.dumps({**video, "status": "completed"}).encode())
    assert done.video_url == "http://up:8080/v1/videos/video_9/content"
    failed = OPENAI.parse_poll(200, json.dumps({**video, "status": "failed", "error": {"code": "moderation_blocked",
                                                                                      "message": "no"}}).encode())
    assert (failed.error_code, failed.error_message) == ("moderation_blocked", "no")
    with pytest.raises(UpstreamError) as err:
        OPENAI.parse_submit(JOB, 400, json.dumps({"error": {"message": "bad size", "code": "invalid_parameter"}}).encode())
    assert (err.value.code, err.value.retryable) == ("invalid_parameter", False)


def write(tmp_path, text):
    path = tmp_path / "c.toml"
    path.write_text(text)
    return {"config": str(path)}


def test_provider_config_errors_name_the_key(tmp_path):
    base = '[providers.k]\nkind = "kling"\nbase_url = "https://x"\n'
    with pytest.raises(SettingsError, match=r"providers\.k\.access_key: missing"):
        load_settings(environ={}, flags=write(tmp_path, base))
    with pytest.raises(SettingsError, match="must be .*references, not literal"):
        load_settings(environ={}, flags=write(tmp_path, base + 'access_key = "AK"\nsecret_key = "SK"\n'))
    refs = base + 'access_key = "${AK}"\nsecret_key = "${SK}"\n'
    with pytest.raises(SettingsError, match="environment variable SK is not set"):
        load_settings(environ={"AK": "a"}, flags=write(tmp_path, refs))
    settings = load_settings(environ={"AK": "a", "SK": "secret-value"}, flags=write(tmp_path, refs))
    assert "secret-value" not in repr(settings)
    with pytest.raises(SettingsError, match=r"providers\.k\.kind: must be one of"):
        load_settings(environ={}, flags=write(tmp_path, '[providers.k]\nkind = "runway"\n'))
    with pytest.raises(SettingsError, match="routes to unknown provider 'nope'"):
        load_settings(environ={}, flags=write(tmp_path, '[[models]]\nname = "m"\nprovider = "nope"\nsizes = ["64x64"]\nseconds = ["1"]\n'))


def test_volcengine_signature_vectors():
    from vidgate.providers.volcengine_sign import sign

    common = dict(access_key="AKLTEXAMPLEACCESSKEY", secret_key="EXAMPLESECRETKEY==", method="POST",
                  host="visual.volcengineapi.com", path="/", x_date="20250101T000000Z")
    submit = sign(query={"Action": "CVSync2AsyncSubmitTask", "Version": "2022-08-31"},
                  body=b'{"req_key":"jimeng_t2v_v30","prompt":"a cat","seed":-1,"frames":121,"aspect_ratio":"16:9"}',
                  **common)
    assert submit["X-Content-Sha256"] == "c8b20c30685dd6838d0d70e6351fdae202131c02c7e7220f48f595b1fb33841a"
    assert submit["Authorization"] == (
        "HMAC-SHA256 Credential=AKLTEXAMPLEACCESSKEY/20250101/cn-north-1/cv/request, "
        "SignedHeaders=content-type;host;x-content-sha256;x-date, "
        "Signature=486ee07710836cc83349e7d79be55c338fab54a90fc6ad5cd46cda037c67e7ea")
    result = sign(query={"Action": "CVSync2AsyncGetResult", "Version": "2022-08-31"},
                  body=b'{"req_key":"jimeng_t2v_v30","task_id":"7392616336519610409"}', **common)
    assert result["Authorization"].endswith("Signature=253630a5236f0281747acfa2e7d1800156f588b231699f0f825c52e23ae3f14e")


def jimeng():
    from vidgate.providers.jimeng import JimengAdapter

    return JimengAdapter(ProviderConfig(name="j", kind="jimeng", base_url="https://visual.volcengineapi.com",
                                        credentials={"access_key": Secret("AK"), "secret_key": Secret("SK")}))


def test_jimeng_mapping():
    from vidgate.providers.jimeng import aspect_ratio

    assert (aspect_ratio(1920, 1088), aspect_ratio(1080, 1920), aspect_ratio(2176, 928)) == ("16:9", "9:16", "21:9")
    assert aspect_ratio(1000, 300) is None
    job = UpstreamJob(video_id="v", upstream_model="jimeng-v30-1080p", prompt="p", width=1920, height=1088, seconds=10)
    request = jimeng().submit_request(job, 1735689600)
    assert request.url == "https://visual.volcengineapi.com/?Action=CVSync2AsyncSubmitTask&Version=2022-08-31"
    assert json.loads(request.body) == {"req_key": "jimeng_t2v_v30_1080p", "prompt": "p", "seed": -1, "frames": 241,
                                        "aspect_ratio": "16:9"}
    assert request.headers["X-Date"] == "20250101T000000Z"
    for bad, param in (({"seconds": 8}, "seconds"), ({"width": 1000, "height": 300}, "size"),
                       ({"metadata": {"req_key": "x"}}, "metadata")):
        with pytest.raises(InvalidRequest) as err:
            jimeng().check(UpstreamJob(**{**job.__dict__, **bad}))
        assert err.value.param == param


def test_jimeng_status_parsing():
    def answer(data, code=10000):
        return json.dumps({"code": code, "message": "m", "data": data}).encode()

    parse = jimeng().parse_poll
    assert parse(200, answer({"status": "in_queue"})).status is VideoStatus.QUEUED
    assert parse(200, answer({"status": "generating"})).status is VideoStatus.IN_PROGRESS  # not a failure
    assert parse(200, answer({"status": "done", "video_url": "https://x/v.mp4"})).video_url == "https://x/v.mp4"
    assert parse(200, answer({"status": "done"})).error_code == "upstream_no_output"
    assert parse(200, answer({"status": "expired"})).status is VideoStatus.FAILED
    moderated = parse(400, answer(None, code=50516))
    assert (moderated.status, moderated.error_code) == (VideoStatus.FAILED, "content_policy_violation")
    with pytest.raises(UpstreamError) as err:
        parse(429, answer(None, code=50429))
    assert err.value.retryable
    submitted = jimeng().parse_submit(UpstreamJob(**{**JOB.__dict__, "upstream_model": "jimeng-v30", "image": b"x"}),
                                      200, answer({"task_id": "73"}))
    assert submitted.state == {"req_key": "jimeng_i2v_first_v30"}
    assert json.loads(jimeng().poll_request(submitted, 0).body) == {"req_key": "jimeng_i2v_first_v30", "task_id": "73"}


def test_vidu_rules():
    from vidgate.providers.vidu import ViduAdapter

    vidu = ViduAdapter(ProviderConfig(name="v", kind="vidu", base_url="https://api.vidu.com",
                                      credentials={"api_key": Secret("vda")}))
    base = UpstreamJob(video_id="v", upstream_model="viduq1", prompt="p", width=1920, height=1080, seconds=5)
    vidu.check(base)
    request = vidu.submit_request(base, 0)
    assert request.headers["Authorization"] == "Token vda" and request.url.endswith("/ent/v2/text2video")
    assert json.loads(request.body) == {"model": "viduq1", "prompt": "p", "duration": 5, "resolution": "1080p",
                                        "aspect_ratio": "16:9"}
    for change, param in (({"seconds": 4}, "seconds"), ({"width": 1280, "height": 720}, "size"),
                          ({"upstream_model": "vidu2.0", "seconds": 8, "image": b"x"}, "size"),
                          ({"upstream_model": "vidu9"}, "model")):
        with pytest.raises(InvalidRequest) as err:
            vidu.check(UpstreamJob(**{**base.__dict__, **change}))
        assert err.value.param == param
    failed = vidu.parse_poll(200, json.dumps({"id": "1", "state": "failed", "err_code": "CreditInsufficient"}).encode())
    assert failed.error_code == "upstream_quota_exhausted"
    assert vidu.parse_poll(200, json.dumps({"id": "1", "state": "queueing"}).encode()).status is VideoStatus.QUEUED
    with pytest.raises(UpstreamError) as err:
        vidu.parse_submit(base, 401, json.dumps({"err_code": "Unauthorized"}).encode())
    assert err.value.code == "upstream_auth_failed"
