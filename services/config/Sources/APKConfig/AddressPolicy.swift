import Foundation

/// Which addresses the definition fetcher may connect to (no SSRF: issue 14).
///
/// Every address a `url` names or resolves to is refused when it falls in one of the ``AddressClass`` ranges
/// (loopback, private, link-local, multicast, …), unless the operator's allow-list (`url.fetch.allow`) names the
/// host or a range containing the address. IPv6 addresses that carry an IPv4 address a connection would reach
/// (IPv4-mapped, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address.
package struct AddressPolicy: Sendable, Hashable {
    /// Host names (lower case, no trailing dot) whose addresses are allowed whatever they are.
    package var allowedHosts: Set<String>
    /// Ranges whose addresses are allowed whatever they are.
    package var allowedNetworks: [IPNetwork]

    /// The production default: every refused class refused, nothing allowed.
    package init(allowedHosts: Set<String> = [], allowedNetworks: [IPNetwork] = []) {
        self.allowedHosts = allowedHosts
        self.allowedNetworks = allowedNetworks
    }

    /// An allow-list entry that is neither a host name nor an address / CIDR range.
    package struct InvalidEntry: Error, Sendable, Hashable {
        package var entry: String
    }

    /// Reads allow-list entries: host names (`definitions.internal`, matched exactly, case-insensitive) and
    /// addresses or CIDR ranges (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`). IPv4 must be written as a dotted quad.
    package init(allowList entries: [String]) throws(InvalidEntry) {
        self.init()
        for raw in entries {
            let entry = raw.trimmingCharacters(in: .whitespaces).lowercased()
            if entry.contains("/") || entry.contains(":") || IPAddress.looksNumeric(entry) {
                guard let network = IPNetwork(cidr: entry) else { throw InvalidEntry(entry: raw) }
                allowedNetworks.append(network)
            } else {
                let name = entry.hasSuffix(".") ? String(entry.dropLast()) : entry
                let valid = !name.isEmpty && name.count <= 253
                    && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }
                guard valid else { throw InvalidEntry(entry: raw) }
                allowedHosts.insert(name)
            }
        }
    }

    /// The allow-list as the operator wrote it, for the start-up log (`none` when empty).
    package var summary: String {
        let entries = allowedHosts.sorted() + allowedNetworks.map(\.description)
        return entries.isEmpty ? "none" : entries.joined(separator: ",")
    }

    /// True when the allow-list names `host` (as written in the URL).
    package func allows(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        return allowedHosts.contains(name)
    }

    /// Why `address` must not be connected to, or nil when it may (a public address, or one the allow-list covers).
    package func refusal(of address: IPAddress) -> AddressClass? {
        let candidates = [address] + (address.embeddedV4.map { [IPAddress.v4($0)] } ?? [])
        if candidates.contains(where: { candidate in allowedNetworks.contains { $0.contains(candidate) } }) { return nil }
        return Self.refusedClass(of: address)
    }

    /// The refused class `address` belongs to, or nil for a public unicast address.
    package static func refusedClass(of address: IPAddress) -> AddressClass? {
        if let embedded = address.embeddedV4 { return refusedClass(of: .v4(embedded)) }
        switch address {
        case .v4: return v4Ranges.first { $0.0.contains(address) }?.1
        case .v6:
            if let match = v6Ranges.first(where: { $0.0.contains(address) }) { return match.1 }
            // Only 2000::/3 is global unicast; everything else (IPv4-compatible ::/96, site-local fec0::/10,
            // discard 100::/64, unassigned space) is not a place to fetch from.
            return globalUnicast.contains(address) ? nil : .reserved
        }
    }

    private static func net(_ text: String) -> IPNetwork {
        // Safe: only called with the literals below, which the tests parse one by one.
        guard let network = IPNetwork(cidr: text) else { preconditionFailure("bad built-in range \(text)") }
        return network
    }

    /// Refused IPv4 ranges (IANA special-purpose registry), most specific first.
    package static let v4Ranges: [(IPNetwork, AddressClass)] = [
        (net("0.0.0.0/8"), .unspecified),
        (net("10.0.0.0/8"), .private),
        (net("100.64.0.0/10"), .sharedAddressSpace),
        (net("127.0.0.0/8"), .loopback),
        (net("169.254.0.0/16"), .linkLocal),
        (net("172.16.0.0/12"), .private),
        (net("192.0.0.0/24"), .reserved),
        (net("192.0.2.0/24"), .documentation),
        (net("192.88.99.0/24"), .reserved),
        (net("192.168.0.0/16"), .private),
        (net("198.18.0.0/15"), .benchmarking),
        (net("198.51.100.0/24"), .documentation),
        (net("203.0.113.0/24"), .documentation),
        (net("224.0.0.0/4"), .multicast),
        (net("255.255.255.255/32"), .broadcast),
        (net("240.0.0.0/4"), .reserved),
    ]

    /// Refused IPv6 ranges inside or beside 2000::/3, most specific first.
    package static let v6Ranges: [(IPNetwork, AddressClass)] = [
        (net("::/128"), .unspecified),
        (net("::1/128"), .loopback),
        (net("fe80::/10"), .linkLocal),
        (net("fc00::/7"), .private),
        (net("ff00::/8"), .multicast),
        (net("2001:db8::/32"), .documentation),
        (net("3fff::/20"), .documentation),
        (net("2001::/23"), .reserved),  // IETF protocol assignments: Teredo 2001::/32, benchmarking 2001:2::/48, ORCHID
        (net("64:ff9b:1::/48"), .reserved),  // local-use NAT64 (RFC 8215)
    ]

    private static let globalUnicast = net("2000::/3")
}

/// Why an address is refused (named in logs, never in responses).
package enum AddressClass: String, Sendable, Hashable, CaseIterable {
    case unspecified, loopback, `private`, sharedAddressSpace = "shared-address-space", linkLocal = "link-local"
    case multicast, broadcast, documentation, benchmarking, reserved
}
