import APKAuthPlan
import EnvoyProtos
import Foundation
import SwiftProtobuf

// Subscription validation (contract §7.5) as one gateway stage shared by both enforcement modes: a second RBAC
// filter, `apk.subscription`, disabled by default and enabled on the secured routes of APIs with subscription
// validation. It reads what the authentication stage put in ``SubscriptionHeaders`` (natively `jwt_authn`'s
// `claim_to_headers`; in `enforcer` mode the enforcer's OK answer) and decides with a matcher tree whose
// `exact_match_map`s hold the route's allow-list, so a request costs one hash lookup however many subscribers
// there are. Its refusal's response code details name its action, which is how the local reply (a CEL filter)
// tells a 403 900908 from a scope refusal (900910).
extension XDSTranslator {
    static let subscriptionFilterName = "apk.subscription"
    /// The stage's refusing action, and the response code details Envoy gives its 403 (read by the local reply).
    static let subscriptionDenialAction = "not-subscribed"
    static var subscriptionDenialDetails: String { "rbac_access_denied_matched_policy[\(subscriptionDenialAction)]" }

    /// The listener stage (no rules of its own: a route's `RBACPerRoute` brings them).
    static func subscriptionFilter(encoder: ProtoEncoder) throws -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter {
        var filter = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
        filter.name = subscriptionFilterName
        filter.typedConfig = try AnyPacking.pack(Envoy_Extensions_Filters_Http_Rbac_V3_RBAC(), encoder: encoder)
        filter.disabled = true
        return filter
    }

    /// Enables the stage on a secured route of an API with subscription validation, with the allow-list of the
    /// route's key type; the stage's headers never reach the backend.
    static func applySubscriptions(
        _ list: SubscriptionAllowList, to route: inout Envoy_Config_Route_V3_Route, encoder: ProtoEncoder
    ) throws {
        let matcher = try subscriptionMatcher(list)
        var perRoute = Envoy_Extensions_Filters_Http_Rbac_V3_RBACPerRoute()
        perRoute.rbac.matcher = matcher
        route.typedPerFilterConfig[subscriptionFilterName] = try AnyPacking.pack(perRoute, encoder: encoder)
    }

    /// Listed consumer key → allow; else listed application → allow; else an authenticated caller (OAuth2 or API
    /// key: ``SubscriptionHeaders/authenticated`` present) → deny; else (JWT type, internal key) → allow. An empty
    /// list leaves its level out (an empty map is not valid).
    static func subscriptionMatcher(_ list: SubscriptionAllowList) throws -> Xds_Type_Matcher_V3_Matcher {
        let allow = try action("subscribed", .allow)
        var last = Xds_Type_Matcher_V3_Matcher()
        var deny = Xds_Type_Matcher_V3_Matcher.MatcherList.FieldMatcher()
        deny.predicate.singlePredicate.input = try headerInput(SubscriptionHeaders.authenticated)
        deny.predicate.singlePredicate.valueMatch.safeRegex.googleRe2 = Xds_Type_Matcher_V3_RegexMatcher.GoogleRE2()
        deny.predicate.singlePredicate.valueMatch.safeRegex.regex = ".*"  // present, whatever its value
        deny.onMatch.action = try action(subscriptionDenialAction, .deny)
        last.matcherList.matchers = [deny]
        last.onNoMatch.action = try action("not-subscription-checked", .allow)
        var matcher = last
        for (header, values) in [(SubscriptionHeaders.application, list.applications), (SubscriptionHeaders.consumerKey, list.consumerKeys)]
        where !values.isEmpty {
            var level = Xds_Type_Matcher_V3_Matcher()
            level.matcherTree.input = try headerInput(header)
            var allowed = Xds_Type_Matcher_V3_Matcher.OnMatch()
            allowed.action = allow
            level.matcherTree.exactMatchMap.map = Dictionary(uniqueKeysWithValues: values.map { ($0, allowed) })
            level.onNoMatch.matcher = matcher
            matcher = level
        }
        return matcher
    }

    private static func headerInput(_ name: String) throws -> Xds_Core_V3_TypedExtensionConfig {
        var input = Envoy_Type_Matcher_V3_HttpRequestHeaderMatchInput()
        input.headerName = name
        var config = Xds_Core_V3_TypedExtensionConfig()
        config.name = "header"
        config.typedConfig = try AnyPacking.pack(input)
        return config
    }

    private static func action(_ name: String, _ kind: Envoy_Config_Rbac_V3_RBAC.Action) throws -> Xds_Core_V3_TypedExtensionConfig {
        var action = Envoy_Config_Rbac_V3_Action()
        action.name = name
        action.action = kind
        var config = Xds_Core_V3_TypedExtensionConfig()
        config.name = "action"
        config.typedConfig = try AnyPacking.pack(action)
        return config
    }
}
