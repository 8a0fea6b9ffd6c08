import APKSupport
package import APKUnaryGRPC
import EnvoyGRPC
package import EnvoyProtos
package import GRPCCore
package import Logging
import Metrics
import NIOCore
import NIOPosix
import SwiftProtobuf

/// `envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit`, as the router's global rate-limit filter calls it.
///
/// A request outside ``RateLimitQueryLimits`` (another domain, no descriptors, too many, a `hits_addend` above the
/// maximum) is refused with `INVALID_ARGUMENT` and the ``RatelimiterError`` code as the message; the router then
/// applies its failure mode. Otherwise the answer has one status per descriptor, in order: `OVER_LIMIT` or `OK`,
/// with `current_limit`, `limit_remaining` and `duration_until_reset` whenever a rule applies; the overall code is
/// `OVER_LIMIT` when any descriptor is.
package struct RateLimitService: Envoy_Service_Ratelimit_V3_RateLimitService.SimpleServiceProtocol {
    private let limiter: RateLimiter
    private let limits: RateLimitQueryLimits
    private let clock: any RatelimiterClock
    private let logger: Logger
    private let metrics: RatelimiterMetrics

    /// Serves `limiter` for requests within `limits`.
    package init(limiter: RateLimiter, limits: RateLimitQueryLimits, clock: any RatelimiterClock, logger: Logger) {
        self.init(limiter: limiter, limits: limits, clock: clock, logger: logger, metrics: RatelimiterMetrics())
    }

    init(
        limiter: RateLimiter, limits: RateLimitQueryLimits, clock: any RatelimiterClock, logger: Logger,
        metrics: RatelimiterMetrics
    ) {
        self.limiter = limiter
        self.limits = limits
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
    }

    package func shouldRateLimit(
        request: Envoy_Service_Ratelimit_V3_RateLimitRequest, context: ServerContext
    ) async throws -> Envoy_Service_Ratelimit_V3_RateLimitResponse {
        switch try await answer(request, on: MultiThreadedEventLoopGroup.singleton.any()).get() {
        case .success(let response): return response
        case .failure(let error): throw RPCError(code: .invalidArgument, message: error.description)
        }
    }

    /// `ShouldRateLimit` for ``UnaryGRPCServer``: started on the connection's event loop, answered when Redis has
    /// replied (no task; with the pool's connection on the same loop, the call never leaves its thread).
    package var shouldRateLimitMethod: UnaryGRPCMethod {
        .future("/envoy.service.ratelimit.v3.RateLimitService/ShouldRateLimit", Envoy_Service_Ratelimit_V3_RateLimitRequest.self) {
            request, eventLoop in
            answer(request, on: eventLoop).flatMapThrowing { result in
                switch result {
                case .success(let response): return response
                case .failure(let error): throw UnaryGRPCError(code: .invalidArgument, message: error.description)
                }
            }
        }
    }

    /// The answer to one request, or why it is refused (`INVALID_ARGUMENT` on the wire). Never fails.
    func answer(
        _ request: Envoy_Service_Ratelimit_V3_RateLimitRequest, on eventLoop: any EventLoop
    ) -> EventLoopFuture<Result<Envoy_Service_Ratelimit_V3_RateLimitResponse, RatelimiterError>> {
        let queries: [DescriptorQuery]
        do {
            queries = try RateLimitQuery.parse(request, limits: limits)
        } catch {
            metrics.requestsInvalid.increment()
            logger.debug("invalid ShouldRateLimit request", metadata: ["error.code": "\(error.code.rawValue)"])
            return eventLoop.makeSucceededFuture(.failure(error))
        }
        let started = clock.monotonic
        return limiter.decide(queries, on: eventLoop).map { statuses in
            self.metrics.decisionDuration.record(duration: self.clock.monotonic - started)
            let response = Self.response(statuses)
            if response.overallCode == .overLimit {
                self.metrics.requestsOverLimit.increment()
            } else {
                self.metrics.requestsOK.increment()
            }
            return .success(response)
        }
    }

    /// The RLS answer for `statuses` (pure).
    package static func response(_ statuses: [DescriptorStatus]) -> Envoy_Service_Ratelimit_V3_RateLimitResponse {
        var response = Envoy_Service_Ratelimit_V3_RateLimitResponse()
        response.overallCode = statuses.contains(where: \.isOverLimit) ? .overLimit : .ok
        response.statuses = statuses.map { status in
            var answer = Envoy_Service_Ratelimit_V3_RateLimitResponse.DescriptorStatus()
            answer.code = status.isOverLimit ? .overLimit : .ok
            if let rule = status.rule {
                var limit = Envoy_Service_Ratelimit_V3_RateLimitResponse.RateLimit()
                limit.requestsPerUnit = rule.requestsPerUnit
                limit.unit = rule.unit.envoyUnit
                answer.currentLimit = limit
                answer.limitRemaining = status.remaining
                answer.durationUntilReset = protobufDuration(status.resetIn)
            }
            return answer
        }
        return response
    }

    private static func protobufDuration(_ duration: Duration) -> Google_Protobuf_Duration {
        let nanoseconds = max(duration.nanoseconds, 0)
        return Google_Protobuf_Duration(
            seconds: nanoseconds / 1_000_000_000, nanos: Int32(nanoseconds % 1_000_000_000))
    }
}
