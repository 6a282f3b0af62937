import Foundation
import GRDB

/// An agent account as the rest of postdesk sees it: never its password hash, only whether one is set.
public struct Agent: Sendable, Equatable, Codable {
    public var id: Int64
    /// Normalised (lowercased, trimmed); unique without regard to case.
    public var email: String
    public var name: String
    public var role: AgentRole
    public var disabled: Bool
    /// The agent's own choice of language; nil: the browser's Accept-Language decides.
    public var locale: ConsoleLocale?
    public var passwordSet: Bool
    public var createdAt: Date

    public init(
        id: Int64, email: String, name: String, role: AgentRole, disabled: Bool, locale: ConsoleLocale?,
        passwordSet: Bool, createdAt: Date
    ) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.disabled = disabled
        self.locale = locale
        self.passwordSet = passwordSet
        self.createdAt = createdAt
    }
}

/// The `agent` table: an account with its bcrypt hash (nil until a password is set).
struct AgentRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "agent"
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
struct AgentSessionRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "agentSession"
    var tokenHash: Data
    var agentId: Int64
    var csrfToken: String
    var createdAt: Date
    var expiresAt: Date
}

/// The `passwordSetup` table: a one-time link to set an agent's password, keyed by the SHA-256 of its token.
struct PasswordSetupRecord: Codable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "passwordSetup"
    var tokenHash: Data
    var agentId: Int64
    var createdAt: Date
    var expiresAt: Date
}
