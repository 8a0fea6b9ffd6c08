import APKAuthPlan
import APKModel
import Crypto
import EnvoyProtos
import Foundation
import SwiftProtobuf

// Backend JWT in `native` mode (contract §7.7): a Lua stage, `apk.backend_jwt`, after the native filters allowed the
// request, enabled only on the secured routes of APIs that ask for a backend JWT. Each Envoy worker keeps the
// tokens it got in a table keyed by the route's plan and the request's credential values; on a miss (or once a
// token is due for renewal) it asks the enforcer's `POST /backend-jwt` (its HTTP port, the cluster that also serves
// `/.wellknown/jwks`), which evaluates the same plan and signs. A request with a known credential therefore makes no
// call to Swift. Fail closed: no answer ⇒ 503 102517, a refusal ⇒ 500 900900, never forwarded without the token.
// (`AUTH_BACKEND_JWT_STAGE=ext_authz` calls the enforcer on every such request instead: `bench auth` compares them.)
extension XDSTranslator {
    static let backendJWTFilterName = "apk.backend_jwt"
    static let backendJWTSource = "apk-backend-jwt"
    /// The enforcer's HTTP cluster (``XDSSettings/systemEnforcerJWKS``).
    static let enforcerHTTPCluster = "apk-system/enforcer-jwks"

    /// The per-worker cache. Route metadata (namespace ``backendJWTFilterName``): `plan` (the RoutePlan text),
    /// `key` (a digest of it: the cache key's prefix, so a request does not copy the plan), `header` (where the
    /// token goes), `credentials` (header names) and `query` (query parameter names) — what
    /// identifies the caller. Query names are literal (RFC 3986 unreserved characters, escaped for Lua patterns).
    static let backendJWTCode = #"""
        local cache, size, limit = {}, 0, 10000
        local function deny(h, status, code, message, description)
          h:respond({[":status"] = status, ["content-type"] = "Application/json"},
            '{\n  "error_message": "' .. message .. '",\n  "code": ' .. code .. ',\n  "error_description": "' .. description .. '"\n}')
        end
        -- The router's own 503 body for an unreachable enforcer (the local reply of the other stages, same text).
        local function unavailable(h)
          h:respond({[":status"] = "503", ["content-type"] = "application/json"},
            '{"code":"102517","error_description":"The gateway could not reach its authorization service; the request was not forwarded.","error_message":"Authorization service unavailable"}')
        end
        local function stage(h)
          local meta = h:metadata()
          local plan, header, key = meta:get("plan"), meta:get("header"), meta:get("key")
          if plan == nil or header == nil or key == nil then error("the route carries no backend-JWT plan") end
          local headers = h:headers()
          local call = {[":method"] = "POST", [":path"] = "/backend-jwt", [":authority"] = "apk-enforcer",
            ["content-type"] = "application/json"}
          for _, name in ipairs(meta:get("credentials") or {}) do
            local value = headers:get(name)
            if value ~= nil then
              key = key .. "\0" .. name .. "=" .. value
              call[name] = value
            end
          end
          local query = meta:get("query") or {}
          if #query > 0 then
            local path = headers:get(":path") or ""
            for _, name in ipairs(query) do
              local value = string.match(path, "[?&]" .. string.gsub(name, "%p", "%%%0") .. "=([^&#]*)")
              if value ~= nil then key = key .. "\0?" .. name .. "=" .. value end
            end
            call["x-apk-original-path"] = path
          end
          local now = os.time()
          local entry = cache[key]
          if entry == nil or entry.refresh <= now then
            local answer, body = h:httpCall("apk-system/enforcer-jwks", call, plan, 1000)
            local status = answer and answer[":status"]
            if status ~= "200" then
              if status == nil or status == "503" or status == "504" then
                unavailable(h)
              else
                deny(h, "500", "900900", "Unclassified Authentication Failure",
                  "The gateway could not issue the backend token for this resource")
              end
              return
            end
            local ttl, token = string.match(body or "", "^(%d+) (%S+)$")
            if token == nil then
              deny(h, "500", "900900", "Unclassified Authentication Failure",
                "The gateway could not issue the backend token for this resource")
              return
            end
            if size >= limit then cache, size = {}, 0 end
            if cache[key] == nil then size = size + 1 end
            entry = {token = token, refresh = now + tonumber(ttl)}
            cache[key] = entry
          end
          -- Handles taken before the call are not valid after it (httpCall yields): take the headers again.
          h:headers():replace(header, entry.token)
        end
        function envoy_on_request(h)
          -- Fail closed: a script error must not let the request through without its token.
          local ok, err = pcall(stage, h)
          if not ok then
            h:logErr("apk.backend_jwt: " .. tostring(err))
            deny(h, "500", "900900", "Unclassified Authentication Failure",
              "The gateway could not issue the backend token for this resource")
          end
        end
        """#

    /// The listeners' stage (disabled unless a route enables it).
    static func backendJWTLuaFilter(encoder: ProtoEncoder) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        try luaFilter(name: backendJWTFilterName, source: backendJWTSource, code: backendJWTCode, encoder: encoder)
    }

    /// Enables the stage on a route with the route's plan in its metadata.
    static func applyBackendJWTStage(
        _ plan: APIAuthPlan, _ operation: OperationAuthPlan, jwt: BackendJWTPlan, keyType: KeyType,
        to route: inout Envoy_Config_Route_V3_Route, encoder: ProtoEncoder
    ) throws {
        var perRoute = Envoy_Extensions_Filters_Http_Lua_V3_LuaPerRoute()
        perRoute.name = backendJWTSource
        route.typedPerFilterConfig[backendJWTFilterName] = try AnyPacking.pack(perRoute, encoder: encoder)
        let text = try RoutePlan(api: plan, operation: operation, keyType: keyType).encoded()
        var query: [Google_Protobuf_Value] = []
        for case .apiKey(.query(let name), _) in plan.credentials { query.append(Google_Protobuf_Value(stringValue: name)) }
        // Under the stage's name: `handle:metadata()` reads the metadata of the filter's own name.
        route.metadata.filterMetadata[backendJWTFilterName] = Google_Protobuf_Struct(fields: [
            "plan": Google_Protobuf_Value(stringValue: text),
            // The full SHA-256: two routes must never share a cache entry.
            "key": Google_Protobuf_Value(stringValue: Hashing.hex(SHA256.hash(data: Data(text.utf8)))),
            "header": Google_Protobuf_Value(stringValue: jwt.header),
            "credentials": Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(
                values: Array(Set(plan.credentials.compactMap(\.header))).sorted().map { Google_Protobuf_Value(stringValue: $0) })),
            "query": Google_Protobuf_Value(listValue: Google_Protobuf_ListValue(values: query)),
        ])
    }
}
