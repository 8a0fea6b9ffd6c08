// apk-bench: micro-benchmarks printed with the machine they ran on. `./build-apk.sh bench config` runs
// `apk-bench config` from a release build. Figures are medians of interleaved runs (baseline, subject, baseline, …)
// so that machine noise hits both alike; each subject is also shown as a ratio to its same-run baseline.
import APKModel
import Foundation

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "config":
    let rounds = Int(arguments.dropFirst().first ?? "") ?? 15
    ConfigBenchmark(rounds: rounds).run()
case "deploy":
    guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"] else {
        print("apk-bench deploy needs DATABASE_URL (./build-apk.sh bench deploy starts a throwaway PostgreSQL)")
        exit(2)
    }
    let rest = Array(arguments.dropFirst())
    let preload = Int(rest.first ?? "") ?? 1000
    let deploys = Int(rest.dropFirst().first ?? "") ?? 200
    do {
        try await DeployBenchmark(databaseURL: url, preload: preload, deploys: deploys).run()
    } catch {
        print("deploy benchmark failed: \(error)")
        exit(1)
    }
case "propagation":
    // apk-bench propagation [deploys per step] [preloaded APIs per step …] (default: 100 0 1000 10000)
    let rest = Array(arguments.dropFirst())
    let deploys = Int(rest.first ?? "") ?? 100
    let steps = rest.dropFirst().compactMap { Int($0) }
    do {
        try await PropagationBenchmark(preloads: steps.isEmpty ? [0, 1000, 10_000] : steps, deploys: deploys).run()
    } catch {
        print("propagation benchmark failed: \(error)")
        exit(1)
    }
case "subscribe":
    let rest = Array(arguments.dropFirst())
    guard let url = ProcessInfo.processInfo.environment["DATABASE_URL"], rest.count == 5, let count = Int(rest[3]), count >= 0
    else {
        print("usage: DATABASE_URL=… apk-bench subscribe NAMESPACE API-NAME VERSION COUNT CLIENT")
        exit(2)
    }
    do {
        try await SubscribeCommand(
            databaseURL: url, namespace: rest[0], apiName: rest[1], version: rest[2], count: count, client: rest[4]
        ).run()
    } catch {
        print("subscribe failed: \(error)")
        exit(1)
    }
case "check-load":
    // apk-bench check-load HOST PORT TOKEN [RATE] [SECONDS] [ROUNDS] [GRPC-SWIFT PORT]: the enforcer's Check at a
    // fixed rate (and, given a second enforcer's port, the same against grpc-swift-2's server).
    let rest = Array(arguments.dropFirst())
    guard rest.count >= 3, let port = Int(rest[1]) else {
        print("usage: apk-bench check-load HOST PORT TOKEN [RATE 1000] [SECONDS 5] [ROUNDS 5]")
        exit(2)
    }
    let numbers = rest.dropFirst(3).compactMap { Int($0) }
    do {
        try await CheckLoadBenchmark(
            host: rest[0], port: port, token: rest[2], rate: numbers.first ?? 1000,
            seconds: numbers.dropFirst().first ?? 5, rounds: numbers.dropFirst(2).first ?? 5,
            comparePort: numbers.dropFirst(3).first
        ).run()
    } catch {
        print("check-load failed: \(error)")
        exit(1)
    }
case "ratelimit":
    // apk-bench ratelimit PORT [seconds] [concurrency] [rate] [server PID] (docs/ratelimiter-design.md)
    let rest = Array(arguments.dropFirst())
    guard let port = Int(rest.first ?? "") else {
        print("usage: apk-bench ratelimit PORT [seconds (5)] [concurrency (32)] [rate/s (5000)] [server PID]")
        exit(2)
    }
    let numbers = rest.dropFirst().map { Int($0) }
    let benchmark = RatelimitBenchmark(
        port: port, seconds: numbers.first.flatMap { $0 } ?? 5, concurrency: numbers.dropFirst().first.flatMap { $0 } ?? 32,
        rate: numbers.dropFirst(2).first.flatMap { $0 } ?? 5000, serverPID: numbers.dropFirst(3).first.flatMap { $0 }.map(Int32.init))
    do {
        try await benchmark.run()
    } catch {
        print("ratelimit benchmark failed: \(error)")
        exit(1)
    }
case "grpc-bodies":
    // apk-bench grpc-bodies DIR TOKEN: request bodies for h2load (GRPCBodies)
    let rest = Array(arguments.dropFirst())
    guard rest.count == 2 else {
        print("usage: apk-bench grpc-bodies DIR TOKEN")
        exit(2)
    }
    do {
        try GRPCBodies.write(to: URL(fileURLWithPath: rest[0]), token: rest[1])
    } catch {
        print("grpc-bodies failed: \(error)")
        exit(1)
    }
case "ratelimit-floor":
    // apk-bench ratelimit-floor PORT [lean|grpc-swift]
    guard let port = Int(arguments.dropFirst().first ?? "") else {
        print("usage: apk-bench ratelimit-floor PORT [lean|grpc-swift]")
        exit(2)
    }
    do {
        try await RatelimitFloorServer.serve(port: port, lean: arguments.dropFirst(2).first != "grpc-swift")
    } catch {
        print("ratelimit floor server failed: \(error)")
        exit(1)
    }
default:
    print("usage: apk-bench config [rounds] | apk-bench deploy [preloaded APIs] [deploys] | apk-bench propagation [deploys] [preloads …] | apk-bench subscribe … | apk-bench ratelimit PORT … | apk-bench ratelimit-floor PORT | apk-bench check-load … | apk-bench grpc-bodies DIR TOKEN")
    exit(arguments.isEmpty ? 0 : 2)
}
