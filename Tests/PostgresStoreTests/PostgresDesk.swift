import Logging
import MailServerHarness
import PostgresStore

/// A fresh database on the test process's PostgreSQL server, for one test.
struct PostgresDesk {
    let server: PostgresServer
    let name: String

    static func make() async throws -> PostgresDesk {
        let server = try await PostgresServer.shared()
        return PostgresDesk(server: server, name: try server.createDatabase())
    }

    func url(sslmode: String = "disable", query: [String: String] = [:]) -> String {
        server.url(database: name, sslmode: sslmode, query: query)
    }

    func open(sslmode: String = "disable", query: [String: String] = [:]) async throws -> PostgresPool {
        try await PostgresPool.open(
            PostgresLocation(url: url(sslmode: sslmode, query: query)), logger: Self.logger)
    }

    static let logger: Logger = {
        var logger = Logger(label: "postgres-test")
        logger.logLevel = .warning
        return logger
    }()
}
