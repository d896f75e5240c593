#!/usr/bin/env bash
# Smoke test against a running vidgate (`make run`): create, poll, download, error envelope.
# Usage: VIDGATE_API_KEY=sk-... gateway/verify.sh [http://127.0.0.1:8080/v1]
set -euo pipefail
base=${1:-http://127.0.0.1:8080/v1}
auth="Authorization: Bearer ${VIDGATE_API_KEY:?set VIDGATE_API_KEY to a key printed by make run or vidgate keys create}"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

id=$(curl -sf "$base/videos" -H "$auth" -F prompt='verify.sh smoke test' | json "['id']")
echo "created $id"
for _ in $(seq 600); do
  status=$(curl -sf "$base/videos/$id" -H "$auth" | json "['status']")
  [ "$status" = completed ] && break
  [ "$status" = failed ] && { echo "video failed"; exit 1; }
  sleep 0.2
done
echo "status $status"
curl -sf -o /tmp/vidgate-verify.mp4 "$base/videos/$id/content" -H "$auth"
head -c 12 /tmp/vidgate-verify.mp4 | grep -q ftyp && echo "downloaded $(wc -c < /tmp/vidgate-verify.mp4) bytes of MP4"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/videos/video_missing" -H "$auth")
[ "$code" = 404 ] && echo "unknown id -> 404"
curl -sf -X DELETE "$base/videos/$id" -H "$auth" | json "['deleted']"
