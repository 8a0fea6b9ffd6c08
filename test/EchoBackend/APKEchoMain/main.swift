// apk-echo: the httpbin-like test backend (see EchoRouter). HTTP_HOST (127.0.0.1) and HTTP_PORT (8088).
import APKEcho
import Foundation
import Hummingbird

let environment = ProcessInfo.processInfo.environment
let host = environment["HTTP_HOST"] ?? "127.0.0.1"
guard let port = Int(environment["HTTP_PORT"] ?? "8088"), (0...65535).contains(port) else {
    FileHandle.standardError.write(Data("apk-echo: HTTP_PORT must be a port number\n".utf8))
    exit(2)
}
let app = Application(router: EchoRouter.build(), configuration: .init(address: .hostname(host, port: port), serverName: "apk-echo"))
try await app.runService()
