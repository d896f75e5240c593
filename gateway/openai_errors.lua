-- Response side of the OpenAI REST surface (runs after the gRPC-JSON transcoder).
--
-- Success: drop gRPC leftovers and turn the service's x-content-length into Content-Length
-- (grpc will not carry a `content-length` metadata key). The body is never buffered.
-- Error: answer with OpenAI's {"error":{"message","type","param","code"}} body. The service sends
-- that JSON in the `x-openai-error` trailer and the HTTP status in `x-http-status`; anything else
-- (errors raised by grpc itself, Envoy's own replies: bad JSON, unknown path, upstream down) gets
-- an envelope built here from whatever text is available.

local TYPES = {
  [400] = "invalid_request_error", [401] = "authentication_error", [403] = "permission_error",
  [404] = "invalid_request_error", [405] = "invalid_request_error", [409] = "invalid_request_error",
  [413] = "invalid_request_error", [415] = "invalid_request_error", [429] = "rate_limit_error",
}
local CODES = {
  [400] = "invalid_parameter", [401] = "invalid_api_key", [403] = "insufficient_permissions",
  [404] = "not_found", [413] = "payload_too_large", [429] = "rate_limit_exceeded",
  [500] = "internal_error", [502] = "upstream_error", [503] = "service_unavailable", [504] = "timeout",
}
local PRIVATE = {
  "x-openai-error", "x-http-status", "grpc-status", "grpc-message", "grpc-status-details-bin",
  "x-content-length", "content-disposition", "grpc-accept-encoding",
}

local function json_string(s)
  s = s:gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    return named[c] or string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function percent_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function fallback_message(status, grpc_message, body_text)
  if grpc_message and grpc_message ~= "" then
    return percent_decode(grpc_message)
  end
  local from_status_json = body_text:match('^%s*{.-"message"%s*:%s*"(.-)"%s*[,}]')
  if from_status_json and from_status_json ~= "" then
    return (from_status_json:gsub('\\"', '"'))
  end
  local text = body_text:gsub("^%s+", ""):gsub("%s+$", "")
  if text ~= "" then
    return text
  end
  return "Request failed with HTTP status " .. status .. "."
end

local function error_body(status, message)
  local code = CODES[status]
  return string.format('{"error":{"message":%s,"type":%s,"param":null,"code":%s}}',
    json_string(message), json_string(TYPES[status] or "server_error"),
    code and json_string(code) or "null")
end

function envoy_on_response(handle)
  local headers = handle:headers()
  local content_type = headers:get("content-type") or ""
  if content_type:find("application/grpc", 1, true) == 1 then
    return -- native gRPC passes through untouched
  end
  local status = tonumber(headers:get(":status")) or 500
  if status < 400 then
    headers:remove("grpc-status")
    headers:remove("grpc-message")
    headers:remove("grpc-accept-encoding")
    local length = headers:get("x-content-length")
    if length then
      headers:remove("x-content-length")
      headers:replace("content-length", length)
    end
    return
  end

  local openai = headers:get("x-openai-error")
  local override = headers:get("x-http-status")
  local grpc_message = headers:get("grpc-message")
  local body = handle:body(true)
  local body_text = ""
  if body and body:length() > 0 then
    body_text = body:getBytes(0, body:length())
  end
  if not openai then
    -- Headers-then-trailers responses (an error after initial metadata): the details are trailers.
    local trailers = handle:trailers()
    if trailers then
      openai = trailers:get("x-openai-error")
      override = override or trailers:get("x-http-status")
      grpc_message = grpc_message or trailers:get("grpc-message")
    end
  end

  headers = handle:headers() -- the earlier handle is invalid after body()/trailers()
  if override and tonumber(override) then
    status = tonumber(override)
    headers:replace(":status", override)
  end
  if not openai then
    openai = error_body(status, fallback_message(status, grpc_message, body_text))
  end
  for _, name in ipairs(PRIVATE) do
    headers:remove(name)
  end
  headers:replace("content-type", "application/json")
  headers:replace("content-length", tostring(#openai))
  if body then
    body:setBytes(openai)
  end
end
