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
default:
    print("usage: apk-bench config [rounds]")
    exit(arguments.isEmpty ? 0 : 2)
}
