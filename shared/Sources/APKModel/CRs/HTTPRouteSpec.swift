/// Gateway API `HTTPRoute` spec, limited to what APK writes (contract §5.3).
package struct HTTPRouteSpec: Sendable, Hashable, Codable {
    package var hostnames: [String]
    package var parentRefs: [ParentRef]
    package var rules: [Rule]

    package init(hostnames: [String], parentRefs: [ParentRef], rules: [Rule]) {
        self.hostnames = hostnames
        self.parentRefs = parentRefs
        self.rules = rules
    }

    package struct ParentRef: Sendable, Hashable, Codable {
        package var group: String
        package var kind: String
        package var name: String
        package var sectionName: String?

        package init(group: String, kind: String, name: String, sectionName: String? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.sectionName = sectionName
        }
    }

    package struct Rule: Sendable, Hashable, Codable {
        package var matches: [Match]
        package var filters: [Filter]?
        package var backendRefs: [BackendRef]?

        package init(matches: [Match], filters: [Filter]? = nil, backendRefs: [BackendRef]? = nil) {
            self.matches = matches
            self.filters = filters
            self.backendRefs = backendRefs
        }
    }

    package struct Match: Sendable, Hashable, Codable {
        package var path: PathMatch
        package var method: String?

        package init(path: PathMatch, method: String? = nil) {
            self.path = path
            self.method = method
        }
    }

    package struct PathMatch: Sendable, Hashable, Codable {
        package var type: String
        package var value: String

        package init(type: String, value: String) {
            self.type = type
            self.value = value
        }
    }

    package struct BackendRef: Sendable, Hashable, Codable {
        package var group: String
        package var kind: String
        package var name: String
        package var weight: Int?

        package init(group: String, kind: String, name: String, weight: Int? = nil) {
            self.group = group
            self.kind = kind
            self.name = name
            self.weight = weight
        }

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

        package init(
            set: [Header]? = nil,
            add: [Header]? = nil,
            remove: [String]? = nil
        ) {
            self.set = set
            self.add = add
            self.remove = remove
        }
    }

    package struct Header: Sendable, Hashable, Codable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    package struct Mirror: Sendable, Hashable, Codable {
        package var backendRef: BackendRef

        package init(backendRef: BackendRef) {
            self.backendRef = backendRef
        }
    }

    package struct Redirect: Sendable, Hashable, Codable {
        package var scheme: String?
        package var hostname: String?
        package var port: Int?
        package var path: PathModifier?
        package var statusCode: Int?

        package init(
            scheme: String? = nil,
            hostname: String? = nil,
            port: Int? = nil,
            path: PathModifier? = nil,
            statusCode: Int? = nil
        ) {
            self.scheme = scheme
            self.hostname = hostname
            self.port = port
            self.path = path
            self.statusCode = statusCode
        }
    }

    package struct URLRewrite: Sendable, Hashable, Codable {
        package var path: PathModifier

        package init(path: PathModifier) {
            self.path = path
        }
    }

    package struct PathModifier: Sendable, Hashable, Codable {
        package var type: String
        package var replaceFullPath: String

        package init(type: String, replaceFullPath: String) {
            self.type = type
            self.replaceFullPath = replaceFullPath
        }
    }

    package struct ExtensionRef: Sendable, Hashable, Codable {
        package var group: String
        package var kind: String
        package var name: String

        package init(group: String, kind: String, name: String) {
            self.group = group
            self.kind = kind
            self.name = name
        }
    }
}

/// Gateway API `Gateway` spec (listeners only).
package struct GatewaySpec: Sendable, Hashable, Codable {
    package var gatewayClassName: String
    package var listeners: [Listener]

    package init(gatewayClassName: String, listeners: [Listener]) {
        self.gatewayClassName = gatewayClassName
        self.listeners = listeners
    }

    package struct Listener: Sendable, Hashable, Codable {
        package var name: String
        package var hostname: String?
        package var port: Int
        package var `protocol`: String
        package var tls: TLS?

        package init(name: String, hostname: String? = nil, port: Int, `protocol`: String, tls: TLS? = nil) {
            self.name = name
            self.hostname = hostname
            self.port = port
            self.protocol = `protocol`
            self.tls = tls
        }
    }

    package struct TLS: Sendable, Hashable, Codable {
        package var certificateRefs: [CertificateRef]

        package init(certificateRefs: [CertificateRef]) {
            self.certificateRefs = certificateRefs
        }
    }

    package struct CertificateRef: Sendable, Hashable, Codable {
        package var kind: String
        package var name: String

        package init(kind: String, name: String) {
            self.kind = kind
            self.name = name
        }
    }
}

/// Gateway API `GatewayClass` spec.
package struct GatewayClassSpec: Sendable, Hashable, Codable {
    package var controllerName: String

    package init(controllerName: String) {
        self.controllerName = controllerName
    }
}
