import APKSupport
import Foundation

extension DeployerConfiguration {
    /// Reads the KEKs and the client-secret settings (keys in `DeployerConfiguration+ConfigReader.swift`). Values are
    /// secrets: no error quotes them. Without a KEK the deployer refuses to start (``InvalidConfiguration``) unless the
    /// store is in memory (nothing is at rest) or `SIGNING_KEY_ALLOW_PLAINTEXT=true` (development only).
    mutating func readSecrets(_ reader: ConfigReader) throws {
        keyEncryption.current = try Self.kek(reader, key: "signing.key.kek")
        if let previous = try Self.kek(reader, key: "signing.key.kek.previous") {
            guard keyEncryption.current != nil else {
                throw InvalidConfiguration(
                    key: "signing.key.kek.previous", reason: "needs the current KEK (SIGNING_KEY_KEK or SIGNING_KEY_KEK_FILE)")
            }
            keyEncryption.previous = [previous]
        }
        keyEncryption.allowPlaintext = try reader.bool("signing.key.allow.plaintext", default: false)
        if keyEncryption.current == nil, !keyEncryption.allowPlaintext, storeBackend != .memory {
            throw InvalidConfiguration(
                key: "signing.key.kek",
                reason: "a key-encryption key is required to store signing keys: set SIGNING_KEY_KEK_FILE (a file holding "
                    + "base64 of 32 random bytes, e.g. `openssl rand -base64 32`) or SIGNING_KEY_KEK; "
                    + "SIGNING_KEY_ALLOW_PLAINTEXT=true stores them unencrypted (development only)")
        }
        clientSecrets.iterations = try reader.int(
            "client.secret.pbkdf2.iterations", default: clientSecrets.iterations,
            range: ClientSecret.minimumIterations...ClientSecret.maximumIterations)
        clientSecrets.cacheTTL = try reader.duration("client.secret.cache.ttl", default: clientSecrets.cacheTTL)
        clientSecrets.cacheSize = try reader.int("client.secret.cache.size", default: clientSecrets.cacheSize, range: 0...1_000_000)
        clientSecrets.concurrency = try reader.int(
            "client.secret.kdf.concurrency", default: clientSecrets.concurrency, range: 1...16)
        clientSecrets.maxWaiting = try reader.int(
            "client.secret.kdf.max.waiting", default: clientSecrets.maxWaiting, range: 0...10_000)
    }

    /// The KEK of `key` (base64 in the variable) or `key.file` (base64 in the file); both set is an error.
    private static func kek(_ reader: ConfigReader, key: String) throws -> KeyEncryptionKey? {
        let inline = reader.string(key)
        let path = reader.string("\(key).file")
        if inline != nil, path != nil {
            throw InvalidConfiguration(
                key: key, reason: "set \(ConfigReader.variableName(for: key)) or \(ConfigReader.variableName(for: "\(key).file")), not both")
        }
        if let inline {
            do {
                return try KeyEncryptionKey(base64: inline)
            } catch {
                throw InvalidConfiguration(key: key, reason: "\(error)")
            }
        }
        guard let path else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw InvalidConfiguration(key: "\(key).file", reason: "cannot read \(path)")
        }
        do {
            return try KeyEncryptionKey(base64: text)
        } catch {
            throw InvalidConfiguration(key: "\(key).file", reason: "\(path): \(error)")
        }
    }
}
