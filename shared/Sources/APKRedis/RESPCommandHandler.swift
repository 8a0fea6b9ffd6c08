package import NIOCore

/// What ``RESPConnection`` writes into the channel pipeline: encoded commands and who waits for their replies.
package struct RESPRequest: Sendable {
    /// Who receives the replies to a request's commands.
    package enum Responder: Sendable {
        /// One command; its reply completes the promise.
        case single(EventLoopPromise<RESPValue>)
        /// `count` pipelined commands; the promise gets their replies in order once the last one arrived.
        case batch(count: Int, EventLoopPromise<[RESPValue]>)
    }

    /// The encoded command(s), ready to write.
    package var payload: ByteBuffer
    /// Who waits for the replies.
    package var responder: Responder
    /// When the replies are overdue; the connection is closed then (see ``RESPCommandHandler``).
    package var deadline: NIODeadline?

    /// Creates a request.
    package init(payload: ByteBuffer, responder: Responder, deadline: NIODeadline? = nil) {
        self.payload = payload
        self.responder = responder
        self.deadline = deadline
    }
}

/// Pairs replies with requests in FIFO order, as Redis answers commands on one connection in the order it got them.
///
/// - Writes are not flushed one by one: a `flush` schedules one flush at the end of the current event-loop turn, so
///   commands written together (concurrent callers, pipelines) leave in one write — pipelining without timers.
/// - When the channel closes or fails (I/O error, ``RESPDecodingError``), every pending request fails with a
///   ``RedisClientError`` and later writes fail at once; decoding errors and reply deadlines close the channel,
///   because replies can no longer be paired with requests after either.
package final class RESPCommandHandler: ChannelDuplexHandler {
    package typealias InboundIn = RESPValue
    package typealias OutboundIn = RESPRequest
    package typealias OutboundOut = ByteBuffer

    private struct Pending {
        var responder: RESPRequest.Responder
        var replies: [RESPValue] = []
        var deadline: NIODeadline?
    }

    private var pending = CircularBuffer<Pending>(initialCapacity: 16)
    /// Set once the connection can no longer be used; later requests fail with it.
    private var failure: RedisClientError?
    private var flushScheduled = false
    private var removed = false
    private var timer: (task: Scheduled<Void>, deadline: NIODeadline)?

    /// Creates a handler (one per channel).
    package init() {}

    /// How many requests wait for replies (a batch counts once).
    package var pendingCount: Int { pending.count }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        // The write promise only tells the sender that the request reached this handler; replies go to the responder.
        defer { promise?.succeed(()) }
        if let failure {
            Self.fail(request.responder, with: failure)
            return
        }
        var entry = Pending(responder: request.responder, deadline: request.deadline)
        if case .batch(let count, let batch) = request.responder {
            guard count > 0 else {
                batch.succeed([])
                return
            }
            entry.replies.reserveCapacity(min(count, 1024))
        }
        pending.append(entry)
        context.write(wrapOutboundOut(request.payload), promise: nil)
        if let deadline = request.deadline, timer.map({ deadline < $0.deadline }) ?? true {
            armTimer(context: context, deadline: deadline)
        }
    }

    package func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            if !self.removed { context.flush() }
        }
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        guard let head = pending.first else {
            let error = RedisClientError(.protocolError, "received a reply that no request waits for")
            failAndClose(context: context, error)
            return
        }
        switch head.responder {
        case .single(let promise):
            pending.removeFirst()
            promise.succeed(value)
        case .batch(let count, let promise):
            pending[pending.startIndex].replies.append(value)
            if pending[pending.startIndex].replies.count >= count {
                promise.succeed(pending.removeFirst().replies)
            }
        }
    }

    package func channelInactive(context: ChannelHandlerContext) {
        failAll(.closed)
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Handled here (not forwarded): every waiter learns the cause, and the channel closes.
        failAndClose(context: context, RedisClientError.from(channelError: error))
    }

    package func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
        failAll(.closed)
    }

    /// Closes the channel, then fails every pending request with `error`: waiters that wake up find the channel
    /// already closed, and the close's own `channelInactive` cannot replace the cause (the first error sticks).
    private func failAndClose(context: ChannelHandlerContext, _ error: RedisClientError) {
        if failure == nil { failure = error }
        context.close(promise: nil)
        failAll(error)
    }

    /// Fails every pending request and every later one with the first error seen (`error` if none was before).
    private func failAll(_ error: RedisClientError) {
        let error = failure ?? error
        failure = error
        timer?.task.cancel()
        timer = nil
        while let entry = pending.popFirst() {
            Self.fail(entry.responder, with: error)
        }
    }

    private static func fail(_ responder: RESPRequest.Responder, with error: RedisClientError) {
        switch responder {
        case .single(let promise): promise.fail(error)
        case .batch(_, let promise): promise.fail(error)
        }
    }

    /// One timer at a time, for the earliest deadline of the pending requests.
    private func armTimer(context: ChannelHandlerContext, deadline: NIODeadline) {
        timer?.task.cancel()
        let task = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.checkDeadlines(context: context)
        }
        timer = (task, deadline)
    }

    /// Times the connection out when a pending request is overdue; otherwise re-arms for the next deadline.
    private func checkDeadlines(context: ChannelHandlerContext) {
        guard failure == nil, !removed else { return }
        let now = context.eventLoop.now
        var earliest: NIODeadline?
        for entry in pending {
            guard let deadline = entry.deadline else { continue }
            if deadline <= now {
                let error = RedisClientError(.commandTimeout, "no reply from Redis within the command deadline")
                failAndClose(context: context, error)
                return
            }
            earliest = earliest.map { min($0, deadline) } ?? deadline
        }
        if let earliest { armTimer(context: context, deadline: earliest) }
    }
}

@available(*, unavailable)
extension RESPCommandHandler: Sendable {}
