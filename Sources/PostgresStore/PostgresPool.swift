import Foundation
import Logging
import PostgresNIO
import ServiceDesk

/// A pool of connections to one PostgreSQL database, migrated on open, with the transactions the store runs.
public final class PostgresPool: Sendable {
    /// Where the database is (never logged with its password).
    public let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    private let running: Task<Void, Never>

    /// One schema change, applied once in its own transaction; never edited once shipped.
    public struct Migration: Sendable {
        public var name: String
        public var sql: [String]

        public init(_ name: String, _ sql: [String]) {
            self.name = name
            self.sql = sql
        }
    }

    /// Opens the pool and applies the migrations this database lacks. Several nodes may open at once: the
    /// migrations run under one advisory lock, so each is applied exactly once.
    public static func open(
        _ location: PostgresLocation, migrations: [Migration] = PostgresPool.migrations,
        maximumConnections: Int = 20, logger: Logger
    ) async throws -> PostgresPool {
        var configuration = try location.clientConfiguration()
        configuration.options.maximumConnections = maximumConnections
        // One connection first, so that a refusal (password, TLS, no such database) is the server's own words at
        // once, not the pool's circuit breaker after a minute of retries.
        do {
            let connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.any(), configuration: try location.connectionConfiguration(),
                id: 0, logger: logger
            ).get()
            try await connection.close()
        } catch {
            throw DeskError(.storage, "cannot open the database \(location.redacted): \(Self.describe(error))")
        }
        let database = PostgresPool(location: location, configuration: configuration, logger: logger)
        await database.clientRunning()
        do {
            try await database.migrate(migrations)
        } catch {
            database.close()
            throw DeskError(.storage, "cannot open the database \(location.redacted): \(Self.describe(error))")
        }
        return database
    }

    private init(location: PostgresLocation, configuration: PostgresClient.Configuration, logger: Logger) {
        self.location = location
        self.logger = logger
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        let (started, signal) = AsyncStream.makeStream(of: Never.self)
        self.started = started
        running = Task {
            signal.finish()
            await client.run()
        }
    }

    /// Finished by the pool's task right before it calls `client.run()`, which marks the client running in its first
    /// statement. `open` waits for it, so that its first query does not make postgres-nio warn that `run()` has not
    /// been called (the query would be served all the same, once the pool runs).
    private let started: AsyncStream<Never>

    private func clientRunning() async {
        for await _ in started {}
    }

    /// Ends the pool; queries after this fail.
    public func close() {
        running.cancel()
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    public func transaction<Result: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            // The body's own error (a refused fence, a DeskError) is what the caller decides on; the rollback
            // after it is only worth a mention when it failed too.
            if let closureError = error.closureError {
                if let rollbackError = error.rollbackError {
                    logger.warning("the rollback failed too", metadata: ["error": "\(Self.describe(rollbackError))"])
                }
                throw closureError
            }
            // BEGIN or COMMIT failed: the server's error as it is, so that a caller can tell a unique-key race.
            throw error.commitError ?? error.beginError ?? error
        }
    }

    /// The migration names already applied, in order.
    public func appliedMigrations() async throws -> [String] {
        let rows = try await client.query("SELECT name FROM schemaMigration ORDER BY appliedAt, name", logger: logger)
        return try await rows.decode(String.self).all()
    }

    private func migrate(_ migrations: [Migration]) async throws {
        try await transaction { connection in
            // Under the lock too: two nodes creating the table at once would collide in PostgreSQL's catalog.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schemaMigration (name TEXT PRIMARY KEY, appliedAt TIMESTAMPTZ NOT NULL)",
                logger: self.logger)
        }
        for migration in migrations {
            try await transaction { connection in
                // One node migrates at a time; the others wait here and then find the migration applied.
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
                let done = try await connection.query(
                    "SELECT 1 FROM schemaMigration WHERE name = \(migration.name)", logger: self.logger
                ).collect()
                guard done.isEmpty else { return }
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                }
                try await connection.query(
                    "INSERT INTO schemaMigration (name, appliedAt) VALUES (\(migration.name), clock_timestamp())",
                    logger: self.logger)
            }
        }
    }

    /// The advisory lock key the migrations hold ("pdmigrat" as a number).
    private static let migrationLock: Int64 = 0x7064_6d69_6772_6174

    /// A PostgreSQL error as the server worded it (postgres-nio's own description hides it, so that it cannot leak
    /// a query's data); other errors as they are.
    public static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] {
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + code
        }
        switch error.code {
        case .sslUnsupported: return "the server does not offer TLS, which the URL's sslmode requires"
        case .connectionError, .serverClosedConnection:
            return "cannot connect: \(error.underlying.map { String(describing: $0) } ?? "\(error.code)")"
        default: return "\(error.code)\(error.underlying.map { ": \($0)" } ?? "")"
        }
    }
}

extension AsyncSequence {
    /// Every element, in order (a query's decoded rows).
    func all() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}
