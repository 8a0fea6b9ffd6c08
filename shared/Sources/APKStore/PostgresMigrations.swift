import Logging
import PostgresNIO

/// One schema version: statements run in one transaction, then recorded in `apk_schema_migrations`.
struct PostgresMigration: Sendable {
    var version: Int
    var name: String
    var statements: [String]
}

/// Versioned schema migrations, applied at start-up by ``PostgresStore/migrate()``.
///
/// Append new versions to ``all``; never edit one that has shipped. Two processes starting together are serialised
/// by a session advisory lock, and each version runs in its own transaction with its bookkeeping row, so a crash
/// leaves the schema at a clean version.
enum PostgresMigrations {
    /// `pg_advisory_lock` key of the migration runner ("APKMIGR").
    static let lockKey: Int64 = 0x41_504B_4D49_4752

    static let all: [PostgresMigration] = [initial, apiBasePathIndex, clientRegistration]

    static func migrate(_ store: PostgresStore) async throws(StoreError) -> [Int] {
        let logger = store.driverLogger
        let storeLogger = store.logger
        return try await store.withConnection("migrate") { connection in
            try await connection.query("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
            do {
                let applied = try await pending(connection, logger: logger, storeLogger: storeLogger)
                try await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
                throw error
            }
        }
    }

    /// Applies the versions not yet recorded (the caller holds the advisory lock).
    private static func pending(_ connection: PostgresConnection, logger: Logger, storeLogger: Logger) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS apk_schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var done: Set<Int> = []
        for try await version in try await connection.query("SELECT version FROM apk_schema_migrations", logger: logger)
            .decode(Int.self)
        {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in all where !done.contains(migration.version) {
            try await connection.query("BEGIN", logger: logger)
            do {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO apk_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            storeLogger.info("applied schema migration", metadata: ["apk.store.migration": "\(migration.version) \(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    /// Version 1: resources, the change feed, and the control-plane tables.
    static let initial = PostgresMigration(
        version: 1, name: "initial",
        statements: [
            "CREATE SEQUENCE apk_resource_version AS bigint",
            """
            CREATE TABLE resources (
                kind text NOT NULL,
                namespace text NOT NULL,
                name text NOT NULL,
                api_version text NOT NULL,
                uid text NOT NULL,
                resource_version bigint NOT NULL,
                generation bigint NOT NULL,
                labels jsonb NOT NULL DEFAULT '{}'::jsonb,
                metadata jsonb NOT NULL,
                owner text,
                spec jsonb NOT NULL CHECK (jsonb_typeof(spec) = 'object'),
                status jsonb,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (kind, namespace, name)
            )
            """,
            "CREATE INDEX resources_namespace_owner ON resources (namespace, owner)",
            "CREATE INDEX resources_labels ON resources USING gin (labels)",
            """
            CREATE TABLE resource_events (
                cursor bigserial PRIMARY KEY,
                type text NOT NULL CHECK (type IN ('ADDED', 'MODIFIED', 'DELETED')),
                kind text NOT NULL,
                namespace text NOT NULL,
                name text NOT NULL,
                resource_version bigint NOT NULL,
                uid text NOT NULL,
                generation bigint NOT NULL,
                owner text,
                object jsonb NOT NULL,
                status jsonb,
                created_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE oauth_clients (
                id text PRIMARY KEY,
                secret_hash text NOT NULL,
                name text NOT NULL,
                organization text NOT NULL,
                allowed_scopes text[] NOT NULL DEFAULT '{}',
                grant_types text[] NOT NULL DEFAULT '{}',
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE signing_keys (
                kid text PRIMARY KEY,
                algorithm text NOT NULL,
                private_key_pem text NOT NULL,
                public_key_pem text NOT NULL,
                created_at timestamptz NOT NULL,
                retire_after timestamptz
            )
            """,
            """
            CREATE TABLE internal_keys (
                jti text PRIMARY KEY,
                api_id text NOT NULL,
                organization text NOT NULL,
                subject text NOT NULL,
                issued_at timestamptz NOT NULL,
                expires_at timestamptz NOT NULL,
                revoked boolean NOT NULL DEFAULT false
            )
            """,
            "CREATE INDEX internal_keys_api ON internal_keys (api_id)",
            """
            CREATE TABLE deploy_history (
                id bigserial PRIMARY KEY,
                api_id text NOT NULL,
                organization text NOT NULL,
                action text NOT NULL CHECK (action IN ('deploy', 'undeploy')),
                actor text NOT NULL,
                apk_conf_digest text NOT NULL,
                result text NOT NULL,
                at timestamptz NOT NULL
            )
            """,
            "CREATE INDEX deploy_history_api ON deploy_history (api_id, id DESC)",
        ])

    /// The base-path conflict check of every apply looks APIs up by `spec.basePath`: without this index it scans
    /// every API of the namespace, making a deploy O(number of APIs).
    static let apiBasePathIndex = PostgresMigration(
        version: 2, name: "api-base-path-index",
        statements: [
            "CREATE INDEX resources_api_base_path ON resources (namespace, (spec->'spec'->>'basePath')) WHERE kind = 'API'"
        ])

    /// Client registration (`/dcr/register`): redirect URIs, and the per-organization client listing.
    static let clientRegistration = PostgresMigration(
        version: 3, name: "oauth-client-registration",
        statements: [
            "ALTER TABLE oauth_clients ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}'",
            "CREATE INDEX oauth_clients_organization ON oauth_clients (organization)",
        ])
}
