import Foundation
import MailServerHarness
import PostgresNIO
import PostgresStore
import Testing

/// The pool against a real PostgreSQL 15: each sslmode against a server with TLS (and the refusals libpq gives), a
/// wrong password named without being shown, and migrations applied once when several nodes open at once.
@Suite("PostgreSQL connections and migrations, against a real server")
struct PostgresPoolTests {
    /// Whether the session of `database` runs over TLS.
    static func usesTLS(_ database: PostgresPool) async throws -> Bool {
        try await database.transaction { connection in
            let rows = try await connection.query(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: PostgresDesk.logger)
            var tls = false
            for try await ssl in rows.decode(Bool.self) { tls = ssl }
            return tls
        }
    }

    @Test("disable is plain; prefer, require and verify-full (with the CA as sslrootcert) use TLS")
    func sslModes() async throws {
        let desk = try await PostgresDesk.make()
        let ca = desk.server.caFile
        for (mode, query, tls) in [
            ("disable", [:], false), ("prefer", [:], true), ("require", [:], true),
            ("verify-ca", ["sslrootcert": ca], true), ("verify-full", ["sslrootcert": ca], true),
        ] as [(String, [String: String], Bool)] {
            let database = try await desk.open(sslmode: mode, query: query)
            #expect(try await Self.usesTLS(database) == tls, "sslmode=\(mode)")
            database.close()
        }
    }

    @Test("verify-full refuses a certificate from another CA (the system's roots do not know the test CA)")
    func verifyFullRefusesUnknownCA() async throws {
        let desk = try await PostgresDesk.make()
        await #expect {
            try await desk.open(sslmode: "verify-full")
        } throws: { error in
            String(describing: error).contains("cannot open the database")
        }
    }

    @Test("a wrong password is the server's own refusal, and the password is never in the message")
    func wrongPassword() async throws {
        let desk = try await PostgresDesk.make()
        let url = desk.server.url(database: desk.name, password: "not-the-password-\(UUID().uuidString.prefix(4))")
        await #expect {
            try await PostgresPool.open(PostgresLocation(url: url), logger: PostgresDesk.logger)
        } throws: { error in
            let text = String(describing: error)
            return text.contains("password authentication failed") && !text.contains("not-the-password")
                && text.contains("sslmode=disable")
        }
    }

    @Test("three nodes opening one empty database at once apply each migration once")
    func concurrentMigrations() async throws {
        let desk = try await PostgresDesk.make()
        let opened = try await withThrowingTaskGroup(of: PostgresPool.self) { group in
            for _ in 0..<3 { group.addTask { try await desk.open() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for database in opened {
            #expect(try await database.appliedMigrations() == PostgresPool.migrations.map(\.name))
            database.close()
        }
    }
}
