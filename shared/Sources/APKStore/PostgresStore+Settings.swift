package import APKSupport
import Foundation

extension PostgresStore.Configuration {
    /// The PostgreSQL settings every APK service reads the same way: `DATABASE_URL` when set, else `POSTGRES_HOST`
    /// (`127.0.0.1`), `POSTGRES_PORT` (`5432`), `POSTGRES_USER` (`apk`), `POSTGRES_PASSWORD` (unset; a secret, never
    /// logged) and `POSTGRES_DB` (`apk`) through `reader`.
    package static func resolve(reader: ConfigReader, environment: [String: String]) throws -> Self {
        if let configuration = try fromEnvironment(environment) { return configuration }
        return Self(
            host: reader.string("postgres.host", default: "127.0.0.1"),
            port: try reader.int("postgres.port", default: 5432, range: 1...65535),
            username: reader.string("postgres.user", default: "apk"), password: reader.string("postgres.password"),
            database: reader.string("postgres.db", default: "apk"))
    }
}
