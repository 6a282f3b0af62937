import Foundation
import Logging
import ServiceDesk

extension DeskStore {
    /// Opens (migrating) the desk in the PostgreSQL database at `location`; attachments in `attachmentDirectory`.
    public static func open(
        postgres location: PostgresLocation, secrets: SecretBox, attachmentDirectory: URL,
        maximumConnections: Int = 20, logger: Logger
    ) async throws -> DeskStore {
        let pool = try await PostgresPool.open(location, maximumConnections: maximumConnections, logger: logger)
        return DeskStore(
            backend: PostgresBackend(pool: pool), secrets: secrets, attachmentDirectory: attachmentDirectory)
    }
}
