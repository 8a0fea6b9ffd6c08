import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Resolves a URL's host name to the addresses the definition fetcher checks and then connects to (injected so
/// tests can play DNS, including a name that changes its answer between lookups).
package protocol HostResolver: Sendable {
    /// Every address `host` resolves to; an empty list or an error means "cannot be fetched".
    func addresses(of host: String) async throws -> [IPAddress]
}

/// The system resolver (`getaddrinfo`), run on a Dispatch worker thread (never on an event loop or the
/// cooperative pool, since it blocks). Cancellation answers at once; the lookup itself finishes in the background.
package struct SystemHostResolver: HostResolver {
    package init() {}

    package struct LookupFailed: Error, Sendable, CustomStringConvertible {
        package var code: Int32
        package var description: String { "host name lookup failed (getaddrinfo \(code))" }
    }

    package func addresses(of host: String) async throws -> [IPAddress] {
        let waiter = Waiter()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                waiter.set(continuation)
                DispatchQueue.global().async { waiter.resume(with: Result { try Self.lookUp(host) }) }
            }
        } onCancel: {
            waiter.resume(with: .failure(CancellationError()))
        }
    }

    /// Resumes its continuation once, whoever comes first (the lookup or cancellation).
    private final class Waiter: Sendable {
        private enum State {
            case idle
            case waiting(CheckedContinuation<[IPAddress], any Error>)
            case finished(Result<[IPAddress], any Error>)
            case done
        }

        private let state = Mutex(State.idle)

        func set(_ continuation: CheckedContinuation<[IPAddress], any Error>) {
            let early: Result<[IPAddress], any Error>? = state.withLock { state in
                switch state {
                case .idle:
                    state = .waiting(continuation)
                    return nil
                case .finished(let result):
                    state = .done
                    return result
                case .waiting, .done:
                    return nil
                }
            }
            if let early { continuation.resume(with: early) }
        }

        func resume(with result: Result<[IPAddress], any Error>) {
            let continuation: CheckedContinuation<[IPAddress], any Error>? = state.withLock { state in
                switch state {
                case .idle:
                    state = .finished(result)
                    return nil
                case .waiting(let continuation):
                    state = .done
                    return continuation
                case .finished, .done:
                    return nil
                }
            }
            continuation?.resume(with: result)
        }
    }

    private static func lookUp(_ host: String) throws -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw LookupFailed(code: status) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var next = list
        while let entry = next {
            if let sockaddr = entry.pointee.ai_addr {
                switch Int32(sockaddr.pointee.sa_family) {
                case AF_INET:
                    let raw = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                    addresses.append(.v4(UInt32(bigEndian: raw)))
                case AF_INET6:
                    var raw = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(.v6(withUnsafeBytes(of: &raw) { IPAddress.v6Value($0) }))
                default:
                    break
                }
            }
            next = entry.pointee.ai_next
        }
        var seen = Set<IPAddress>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
