import Foundation
import GRDB

/// The `agent` table: an account with its bcrypt hash (nil until a password is set).
struct AgentRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    static let databaseTableName = "agent"
    static var tableName: String { databaseTableName }
    var id: Int64?
    var email: String
    var name: String
    var role: AgentRole
    var disabled: Bool
    var locale: ConsoleLocale?
    var passwordHash: String?
    var createdAt: Date

    enum Columns {
        static let email = Column(CodingKeys.email)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// The account without its hash.
    func agent() throws -> Agent {
        guard let id else { throw DeskError(.storage, "agent without id") }
        return Agent(
            id: id, email: email, name: name, role: role, disabled: disabled, locale: locale,
            passwordSet: passwordHash != nil, createdAt: createdAt)
    }
}

/// The `agentSession` table: a console sign-in, keyed by the SHA-256 of its cookie token (the token itself is
/// never stored, so a copy of the database signs nobody in).
struct AgentSessionRecord: Codable, Sendable, FetchableRecord, PersistableRecord, SQLRecord {
    static let databaseTableName = "agentSession"
    static var tableName: String { databaseTableName }
    var tokenHash: Data
    var agentId: Int64
    var csrfToken: String
    var createdAt: Date
    var expiresAt: Date
}

/// The `passwordSetup` table: a one-time link to set an agent's password, keyed by the SHA-256 of its token.
struct PasswordSetupRecord: Codable, Sendable, FetchableRecord, PersistableRecord, SQLRecord {
    static let databaseTableName = "passwordSetup"
    static var tableName: String { databaseTableName }
    var tokenHash: Data
    var agentId: Int64
    var createdAt: Date
    var expiresAt: Date
}
