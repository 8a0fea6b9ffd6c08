import APKAuthPlan
import EnvoyProtos
import SwiftProtobuf

/// `local_reply_config` of the gateway's HTTP connection managers: Envoy's own error replies (no route, upstream
/// failures, timeouts, the ratelimiter's 429) get APK's JSON body and codes — `{"code": "<string>", "message": …,
/// "description": …}`, the keys, codes and texts of the reference's response mappers (WSO2 APK's adapter,
/// `response_mapper.go` and its error constants; contract §7.6 lists the codes). The security denials keep the
/// enforcer's `error_message`/`error_description` body (§7.6). Replies without one of these response flags (direct
/// responses, upstream answers) are left alone.
package enum LocalReplies {
    /// One mapper: Envoy response flag → status, APK code, message and description.
    package struct Mapping: Sendable, Hashable {
        package var flag: String
        package var status: Int
        package var code: String
        package var message: String
        package var description: String
    }

    /// The table of contract §7.6 (descriptions `%LOCAL_REPLY_BODY%` carry Envoy's own detail).
    package static let mappings: [Mapping] = [
        Mapping(flag: "NR", status: 404, code: "404", message: "Not Found",
                description: "The requested resource is not available."),
        Mapping(flag: "UT", status: 504, code: "102504", message: "Upstream connection timeout",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UF", status: 503, code: "102503", message: "Upstream connection failed",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UO", status: 503, code: "102505", message: "Upstream overflow", description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UH", status: 503, code: "102508", message: "No healthy upstream",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UR", status: 503, code: "102509", message: "Upstream connection reset by the remote",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UC", status: 503, code: "102510", message: "Upstream connection termination",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "LR", status: 503, code: "102511", message: "Connection reset by the gateway",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "URX", status: 500, code: "102506", message: "Upstream maximum connect attempts reached",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "NC", status: 500, code: "102507", message: "Upstream not configured for the resource",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "IH", status: 400, code: "102512", message: "Strictly checked header validation failure",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "SI", status: 500, code: "102513", message: "Stream idle timeout", description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "DPE", status: 500, code: "102514", message: "HTTP protocol error in downstream request",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UPE", status: 500, code: "102515", message: "HTTP protocol error in upstream request",
                description: "%LOCAL_REPLY_BODY%"),
        Mapping(flag: "UMSDR", status: 500, code: "102516", message: "Upstream request reached max stream duration",
                description: "%LOCAL_REPLY_BODY%"),
        // The ratelimiter's OVER_LIMIT (the `ratelimit` filter's 429; its `x-ratelimit-*` headers stay), in the body
        // WSO2 gateways give a throttled request.
        Mapping(flag: "RL", status: 429, code: "900800", message: "Message throttled out",
                description: "You have exceeded your quota"),
    ]

    /// The enforcer did not answer (ext_authz `status_on_error`, response flag `UAEX`): the request was not forwarded.
    package static let enforcerUnavailable = Mapping(
        flag: "UAEX", status: 503, code: "102517", message: "Authorization service unavailable",
        description: "The gateway could not reach its authorization service; the request was not forwarded.")

    /// `native`: the security filters' replies become §7.6 denials (``authMappers()``). `enforcer`: the enforcer's
    /// denials are already exact (left alone). In both, the enforcer's absence is mapped (``enforcerUnavailable``,
    /// status 503 only: its denials carry the same flag).
    static func config(
        enforcement: XDSSettings.Enforcement
    ) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_LocalReplyConfig {
        var config = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_LocalReplyConfig()
        var unavailable = Envoy_Config_Accesslog_V3_AccessLogFilter()
        var flag = Envoy_Config_Accesslog_V3_AccessLogFilter()
        flag.responseFlagFilter.flags = [enforcerUnavailable.flag]
        unavailable.andFilter.filters = [status(UInt32(enforcerUnavailable.status)), flag]
        // Native mode calls the enforcer too (backend-JWT routes): its absence is mapped in both modes.
        var security = [jsonMapper(enforcerUnavailable, filter: unavailable), try subscriptionMapper()]
        if case .native = enforcement { security += authMappers() }
        config.mappers = security + mappings.map { mapping in
            var filter = Envoy_Config_Accesslog_V3_AccessLogFilter()
            filter.responseFlagFilter.flags = [mapping.flag]
            return jsonMapper(mapping, filter: filter)
        }
        return config
    }

    /// A mapper answering `mapping` with its JSON body (`code` a string, as the reference's mappers write it).
    private static func jsonMapper(
        _ mapping: Mapping, filter: Envoy_Config_Accesslog_V3_AccessLogFilter
    ) -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper {
        var mapper = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper()
        mapper.filter = filter
        mapper.statusCode = Google_Protobuf_UInt32Value(UInt32(mapping.status))
        mapper.bodyFormatOverride.jsonFormat = Google_Protobuf_Struct(fields: [
            "code": Google_Protobuf_Value(stringValue: mapping.code),
            "message": Google_Protobuf_Value(stringValue: mapping.message),
            "description": Google_Protobuf_Value(stringValue: mapping.description),
        ])
        return mapper
    }

    /// The security filters' replies as §7.6 denials (evaluated first; only `jwt_authn` answers 401 and only `rbac`
    /// answers 403 locally):
    /// 403 with a verified access token in metadata ⇒ 403 900910 naming the route's operation (`denial_target`);
    /// any other 403 (an internal key of another API or environment) ⇒ 401 900903; 401 ⇒ 401 900903. Both 401s
    /// carry `WWW-Authenticate: Bearer realm="APK"` (replacing `jwt_authn`'s own challenge).
    static func authMappers() -> [Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper] {
        var tokenPresent = Envoy_Config_Accesslog_V3_AccessLogFilter()
        tokenPresent.metadataFilter.matcher.filter = XDSTranslator.jwtFilterName
        var segment = Envoy_Type_Matcher_V3_MetadataMatcher.PathSegment()
        segment.key = XDSTranslator.tokenMetadataKey
        tokenPresent.metadataFilter.matcher.path = [segment]
        tokenPresent.metadataFilter.matcher.value.presentMatch = true
        tokenPresent.metadataFilter.matchIfKeyNotFound = Google_Protobuf_BoolValue(false)
        var scopeFilter = Envoy_Config_Accesslog_V3_AccessLogFilter()
        scopeFilter.andFilter.filters = [status(403), tokenPresent]
        let target = "%METADATA(ROUTE:\(XDSTranslator.metadataNamespace):\(XDSTranslator.denialTargetKey))%"
        let scope = Denial.missingScope(target: "")
        let scopeBody = Denial.body(
            message: scope.message, code: scope.code, description: Denial.scopeDescription(target: target))
        let invalid = Denial.invalidCredentials
        return [
            mapper(scopeFilter, status: scope.status, body: scopeBody, headers: scope.headers),
            mapper(status(403), status: invalid.status, body: invalid.body, headers: invalid.headers),
            mapper(status(401), status: invalid.status, body: invalid.body, headers: invalid.headers),
        ]
    }

    /// A 403 of the subscription stage ⇒ the §7.6 900908 body, in both modes (the stage runs in both).
    static func subscriptionMapper() throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper {
        // The stage's refusal names its matcher action in the response code details
        // (`rbac_access_denied_matched_policy[not-subscribed]`); the main `rbac` filter's never does.
        var expression = Envoy_Extensions_AccessLoggers_Filters_Cel_V3_ExpressionFilter()
        expression.expression = "response.code_details == '\(XDSTranslator.subscriptionDenialDetails)'"
        var denied = Envoy_Config_Accesslog_V3_AccessLogFilter()
        denied.extensionFilter.name = "envoy.access_loggers.extension_filters.cel"
        denied.extensionFilter.typedConfig = try AnyPacking.pack(expression)
        var filter = Envoy_Config_Accesslog_V3_AccessLogFilter()
        filter.andFilter.filters = [status(403), denied]
        let denial = Denial.notSubscribed
        return mapper(filter, status: denial.status, body: denial.body, headers: denial.headers)
    }

    private static func status(_ code: UInt32) -> Envoy_Config_Accesslog_V3_AccessLogFilter {
        var filter = Envoy_Config_Accesslog_V3_AccessLogFilter()
        filter.statusCodeFilter.comparison.op = .eq
        filter.statusCodeFilter.comparison.value.defaultValue = code
        filter.statusCodeFilter.comparison.value.runtimeKey = "apk.local_reply.status_\(code)"
        return filter
    }

    private static func mapper(
        _ filter: Envoy_Config_Accesslog_V3_AccessLogFilter, status: Int, body: String, headers: [Denial.Header]
    ) -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper {
        var mapper = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_ResponseMapper()
        mapper.filter = filter
        mapper.statusCode = Google_Protobuf_UInt32Value(UInt32(status))
        // `%` of the static text is not a command: only the scope body's target command is meant literally.
        mapper.bodyFormatOverride.textFormatSource.inlineString = body
        mapper.bodyFormatOverride.contentType = Denial.contentType
        mapper.headersToAdd = headers.map { XDSTranslator.headerOption($0.name, $0.value) }
        return mapper
    }
}
