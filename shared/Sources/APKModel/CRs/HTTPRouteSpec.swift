/// Gateway API `HTTPRoute` spec, limited to what APK writes (contract §5.3).
package struct HTTPRouteSpec: Sendable, Hashable, Codable {
    package var hostnames: [String]
    package var parentRefs: [ParentRef]
    package var rules: [Rule]

    package struct ParentRef: Sendable, Hashable, Codable {
        package var group: String
        package var kind: String
        package var name: String
        package var sectionName: String?
    }

    package struct Rule: Sendable, Hashable, Codable {
        package var matches: [Match]
        package var filters: [Filter]?
        package var backendRefs: [BackendRef]?
    }

    package struct Match: Sendable, Hashable, Codable {
        package var path: PathMatch
        package var method: String?
    }

    package struct PathMatch: Sendable, Hashable, Codable {
        package var type: String
        package var value: String
    }

    package struct BackendRef: Sendable, Hashable, Codable {
        package var group: String
        package var kind: String
        package var name: String
        package var weight: Int?

        package static func backend(_ name: String, weight: Int? = nil) -> BackendRef {
            BackendRef(group: CRKind.apkGroup, kind: "Backend", name: name, weight: weight)
        }
    }

    /// One filter; exactly one of the optional members is set, matching `type`.
    package struct Filter: Sendable, Hashable, Codable {
        package var type: String
        package var requestHeaderModifier: HeaderModifier?
        package var responseHeaderModifier: HeaderModifier?
        package var requestMirror: Mirror?
        package var requestRedirect: Redirect?
        package var urlRewrite: URLRewrite?
        package var extensionRef: ExtensionRef?

        package init(type: String) { self.type = type }

        package static func extensionRef(kind: String, name: String) -> Filter {
            var filter = Filter(type: "ExtensionRef")
            filter.extensionRef = ExtensionRef(group: CRKind.apkGroup, kind: kind, name: name)
            return filter
        }

        package static func rewrite(_ path: String) -> Filter {
            var filter = Filter(type: "URLRewrite")
            filter.urlRewrite = URLRewrite(path: PathModifier(type: "ReplaceFullPath", replaceFullPath: path))
            return filter
        }
    }

    package struct HeaderModifier: Sendable, Hashable, Codable {
        package var set: [Header]?
        package var add: [Header]?
        package var remove: [String]?

        package var isEmpty: Bool { (set ?? []).isEmpty && (add ?? []).isEmpty && (remove ?? []).isEmpty }
    }

    package struct Header: Sendable, Hashable, Codable {
        package var name: String
        package var value: String
    }

    package struct Mirror: Sendable, Hashable, Codable {
        package var backendRef: BackendRef
    }

    package struct Redirect: Sendable, Hashable, Codable {
        package var scheme: String?
        package var hostname: String?
        package var port: Int?
        package var path: PathModifier?
        package var statusCode: Int?
    }

    package struct URLRewrite: Sendable, Hashable, Codable {
        package var path: PathModifier
    }

    package struct PathModifier: Sendable, Hashable, Codable {
        package var type: String
        package var replaceFullPath: String
    }

    package struct ExtensionRef: Sendable, Hashable, Codable {
        package var group: String
        package var kind: String
        package var name: String
    }
}

/// Gateway API `Gateway` spec (listeners only).
package struct GatewaySpec: Sendable, Hashable, Codable {
    package var gatewayClassName: String
    package var listeners: [Listener]

    package struct Listener: Sendable, Hashable, Codable {
        package var name: String
        package var hostname: String?
        package var port: Int
        package var `protocol`: String
        package var tls: TLS?
    }

    package struct TLS: Sendable, Hashable, Codable {
        package var certificateRefs: [CertificateRef]
    }

    package struct CertificateRef: Sendable, Hashable, Codable {
        package var kind: String
        package var name: String
    }
}

/// Gateway API `GatewayClass` spec.
package struct GatewayClassSpec: Sendable, Hashable, Codable {
    package var controllerName: String
}
