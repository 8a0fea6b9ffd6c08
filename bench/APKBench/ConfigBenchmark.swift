import APKModel
import Foundation
import APKConversion

/// Conversion time for 10, 100 and 2,000 operations: OpenAPI → apk-conf, and apk-conf → CR bundle.
/// Baseline: parsing the same OpenAPI document into a `JSONValue` (the unavoidable cost of reading it).
struct ConfigBenchmark {
    var rounds: Int

    func run() {
        print(Machine.describe())
        print("rounds per figure: \(rounds) (interleaved with the baseline; medians)")
        print("ops    | parse (baseline) | openapi→apk-conf | ratio | apk-conf→CRs | ratio | CRs")
        for operations in [10, 100, 2000] {
            let document = Data(Self.openAPI(operations: operations).utf8)
            let converter = OpenAPIConverter()
            let builder = CRBundleBuilder()
            var parse: [Double] = []
            var convert: [Double] = []
            var build: [Double] = []
            var resources = 0
            do {
                let conf = try converter.apkConf(fromDefinition: document)
                for _ in 0..<rounds {
                    parse.append(Self.time { _ = try? DocumentParser().parse(document) })
                    convert.append(Self.time { _ = try? converter.apkConf(fromDefinition: document) })
                    build.append(Self.time { resources = (try? builder.build(conf: conf, definition: document, organization: "default"))?.resources.count ?? 0 })
                }
            } catch {
                print("\(operations): conversion failed: \(error)")
                continue
            }
            let p = Self.median(parse), c = Self.median(convert), b = Self.median(build)
            print(String(format: "%-6d | %13.2f ms | %13.2f ms | %5.1f | %9.2f ms | %5.1f | %d", operations, p, c, c / p, b, b / p, resources))
        }
    }

    static func time(_ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let elapsed = clock.measure(body)
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    /// A synthetic OpenAPI 3.0 JSON document with `operations` operations (4 methods per path, some parameters).
    static func openAPI(operations: Int) -> String {
        var paths: [String] = []
        let methods = ["get", "post", "put", "delete"]
        var count = 0
        var index = 0
        while count < operations {
            let ops = methods.prefix(min(4, operations - count)).map {
                "\"\($0)\":{\"operationId\":\"op\(count)\($0)\",\"security\":[{\"default\":[\"read\"]}],\"responses\":{\"200\":{\"description\":\"ok\"}}}"
            }
            count += ops.count
            paths.append("\"/resource\(index)/{id}/items\":{\"parameters\":[{\"name\":\"id\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}],\(ops.joined(separator: ","))}")
            index += 1
        }
        return """
            {"openapi":"3.0.3","info":{"title":"Bench API","version":"1.0.0"},"servers":[{"url":"http://backend:8080/v1"}],\
            "components":{"securitySchemes":{"default":{"type":"oauth2","flows":{"implicit":{"authorizationUrl":"https://idp.example/authorize","scopes":{"read":"read"}}}}}},\
            "paths":{\(paths.joined(separator: ","))}}
            """
    }
}

/// What the figures were measured on.
enum Machine {
    static func describe() -> String {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":", maxSplits: 1).last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / (1 << 20)
        return "machine: \(cpu), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(memory) MiB, "
            + "\(ProcessInfo.processInfo.operatingSystemVersionString)"
    }
}
