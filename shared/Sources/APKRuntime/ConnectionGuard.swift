import APKSupport
import HTTPTypes
import Metrics
package import NIOCore
package import NIOHTTPTypes
import Synchronization

/// Limits that keep one client from tying up a service's HTTP server (issue 14 item 3).
package struct ConnectionLimits: Sendable, Hashable {
    /// Time for a request's headers to arrive in full, from the connection's start or the end of the previous
    /// response; also how long a kept-alive connection may wait for its next request. A slowloris client that
    /// dribbles header bytes is closed when it passes.
    package var headerTimeout: Duration = .seconds(30)
    /// Time for a request's body to arrive in full after its headers.
    package var bodyTimeout: Duration = .seconds(60)
    /// Open connections at once; a connection beyond it is closed as soon as it is accepted.
    package var maxConnections = 1024
    /// Requests being received or handled at once, over all connections; one beyond it is answered 503 with
    /// `Connection: close` (its body is not read).
    package var maxConcurrentRequests = 512

    package init() {}
}

/// Counts what ``ConnectionGuard``s hold, for one server; shared by all its connections.
package final class ConnectionCounters: Sendable {
    let connections = Atomic<Int>(0)
    let requests = Atomic<Int>(0)
    private let closedForTime = Atomic<Int>(0)
    private let refused = Atomic<Int>(0)

    package init() {}

    /// Open connections and requests in progress now.
    package var openConnections: Int { connections.load(ordering: .relaxed) }
    package var requestsInProgress: Int { requests.load(ordering: .relaxed) }
    /// Connections closed because headers or a body did not arrive in time.
    package var timedOut: Int { closedForTime.load(ordering: .relaxed) }
    /// Connections closed or requests answered 503 because a cap was reached.
    package var overCapacity: Int { refused.load(ordering: .relaxed) }

    /// Also counted in `apk_http_connections_closed_total{reason}` (`header_timeout`, `body_timeout`,
    /// `too_many_connections`; and `too_many_requests` for the 503s), so operators see what the guard does.
    func countTimeout(_ reason: String) {
        closedForTime.add(1, ordering: .relaxed)
        Counter(label: "apk_http_connections_closed_total", dimensions: [("reason", reason)]).increment()
    }

    func countRefusal(_ reason: String) {
        refused.add(1, ordering: .relaxed)
        Counter(label: "apk_http_connections_closed_total", dimensions: [("reason", reason)]).increment()
    }
}

/// One per connection, after HTTP decoding: closes a connection whose request headers or body do not arrive in
/// time, refuses connections and requests beyond the caps, and keeps the counters.
///
/// Runs on the connection's event loop; timers are the loop's scheduled tasks (no thread per connection).
package final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    package typealias InboundIn = HTTPRequestPart
    package typealias InboundOut = HTTPRequestPart
    package typealias OutboundIn = HTTPResponsePart
    package typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private let counters: ConnectionCounters
    private var timer: Scheduled<Void>?
    private var holdsConnection = false
    /// Requests received (headers in) and not yet answered in full; each holds one request slot. More than one when
    /// a client pipelines.
    private var unanswered = 0
    /// A request's body is arriving (its headers are in, its end is not).
    private var receivingBody = false
    /// Refused or timed out: inbound parts are dropped until the connection closes.
    private var refusing = false

    package init(limits: ConnectionLimits, counters: ConnectionCounters) {
        self.limits = limits
        self.counters = counters
    }

    package func handlerAdded(context: ChannelHandlerContext) {
        let open = counters.connections.wrappingAdd(1, ordering: .relaxed).newValue
        holdsConnection = true
        guard open <= limits.maxConnections else {
            counters.countRefusal("too_many_connections")
            refusing = true
            context.close(promise: nil)
            return
        }
        arm(limits.headerTimeout, reason: "header_timeout", context: context)
    }

    package func handlerRemoved(context: ChannelHandlerContext) { releaseAll() }

    package func channelInactive(context: ChannelHandlerContext) {
        releaseAll()
        context.fireChannelInactive()
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refusing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let inFlight = counters.requests.wrappingAdd(1, ordering: .relaxed).newValue
            unanswered += 1
            guard inFlight <= limits.maxConcurrentRequests else {
                counters.countRefusal("too_many_requests")
                refuse(head, context: context)
                return
            }
            receivingBody = true
            arm(limits.bodyTimeout, reason: "body_timeout", context: context)
        case .body:
            break
        case .end:
            receivingBody = false
            disarm()
        }
        context.fireChannelRead(data)
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), !refusing, unanswered > 0 {
            // A response is complete; once every received request is answered, the next request's headers must
            // come in time (this also bounds how long a kept-alive connection may idle).
            unanswered -= 1
            counters.requests.subtract(1, ordering: .relaxed)
            if unanswered == 0, !receivingBody { arm(limits.headerTimeout, reason: "header_timeout", context: context) }
        }
        context.write(data, promise: promise)
    }

    /// 503 with `Connection: close`, then the connection closes; the request never reaches the service.
    private func refuse(_ head: HTTPRequest, context: ChannelHandlerContext) {
        refusing = true
        disarm()
        var response = HTTPResponse(status: .serviceUnavailable)
        response.headerFields[.connection] = "close"
        response.headerFields[.retryAfter] = "1"
        let body = #"{"code":909067,"message":"Server busy","description":"Too many requests in progress; retry later","moreInfo":{}}"#
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.contentLength] = String(body.utf8.count)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(string: body))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }

    private func arm(_ duration: Duration, reason: String, context: ChannelHandlerContext) {
        disarm()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(duration.nanoseconds)) {
            let (handler, context) = loopBound.value
            handler.counters.countTimeout(reason)
            handler.refusing = true
            context.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }

    private func releaseAll() {
        disarm()
        if unanswered > 0 {
            counters.requests.subtract(unanswered, ordering: .relaxed)
            unanswered = 0
        }
        if holdsConnection {
            holdsConnection = false
            counters.connections.subtract(1, ordering: .relaxed)
        }
    }
}
