import Foundation
import Logging
import MailServerHarness
import PostgresStore
import Testing

@testable import ServiceDesk

/// The two backends a store test runs on: SQLite in memory, and a fresh database on the real PostgreSQL the harness
/// starts (one server for the whole run).
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Two stores on one new PostgreSQL database, each with its own pool: two nodes of one desk.
    static func postgresNodes() async throws -> (DeskStore, DeskStore) {
        let server = try await PostgresServer.shared()
        let location = try PostgresLocation(
            url: server.url(database: try server.createDatabase(prefix: "nodes"), sslmode: "disable"))
        let secrets = SecretBox()
        let attachments = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-attachments-\(UUID().uuidString)", isDirectory: true)
        func node() async throws -> DeskStore {
            try await DeskStore.open(
                postgres: location, secrets: secrets, attachmentDirectory: attachments, maximumConnections: 4,
                logger: logger)
        }
        return (try await node(), try await node())
    }

    /// A new, empty, migrated store.
    func makeStore() async throws -> DeskStore {
        switch self {
        case .sqlite:
            return try DeskStore.inMemory()
        case .postgres:
            let server = try await PostgresServer.shared()
            let database = try server.createDatabase(prefix: "store")
            return try await DeskStore.open(
                postgres: PostgresLocation(url: server.url(database: database, sslmode: "disable")),
                secrets: SecretBox(),
                attachmentDirectory: FileManager.default.temporaryDirectory.appendingPathComponent(
                    "postdesk-attachments-\(UUID().uuidString)", isDirectory: true),
                maximumConnections: 4, logger: Self.logger)
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "store-test")
        logger.logLevel = .warning
        return logger
    }()
}
