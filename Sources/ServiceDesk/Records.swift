import Foundation
import GRDB

/// A project: a queue of requests with its own key (`SD`) and customers.
public struct Project: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    public static let databaseTableName = "project"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var key: String
    public var name: String
    public var signup: SignupPolicy
    public var nextRequestNumber: Int
    public var createdAt: Date

    public enum Columns {
        static let key = Column(CodingKeys.key)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    public init(
        id: Int64? = nil, key: String, name: String, signup: SignupPolicy, nextRequestNumber: Int, createdAt: Date
    ) {
        self.id = id
        self.key = key
        self.name = name
        self.signup = signup
        self.nextRequestNumber = nextRequestNumber
        self.createdAt = createdAt
    }

    /// Read column by column rather than through Decodable: every mail's decision reads its project afresh.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        key = try row.decode(forColumn: "key")
        name = try row.decode(forColumn: "name")
        signup = try row.decode(forColumn: "signup")
        nextRequestNumber = try row.decode(forColumn: "nextRequestNumber")
        createdAt = try row.decode(forColumn: "createdAt")
    }
}

/// A kind of request in a project, with the fields it asks for.
public struct RequestType: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord
{
    public static let databaseTableName = "requestType"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var projectId: Int64
    public var name: String
    public var fields: [RequestField]

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Why this type cannot receive email, or nil when it can: summary and description must be
    /// visible fields and every other field optional (the seed's rule).
    public var unsuitability: String? {
        for needed in ["summary", "description"] {
            guard let field = fields.first(where: { $0.name.lowercased() == needed }) else {
                return "request type \"\(name)\" has no \(needed) field"
            }
            if !field.visible { return "field \"\(field.name)\" of request type \"\(name)\" is not visible" }
        }
        if let extra = fields.first(where: {
            $0.required && !["summary", "description"].contains($0.name.lowercased())
        }) {
            return
                "field \"\(extra.name)\" of request type \"\(name)\" is required; email can only fill summary and description"
        }
        return nil
    }
}

/// A linked mailbox: one address of one project, and how to reach its server.
public struct Channel: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    public static let databaseTableName = "channel"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var projectId: Int64
    public var address: String
    /// Server + user name, normalised: two channels may not read the same account.
    public var accountKey: String
    public var `protocol`: MailboxProtocol
    public var host: String
    public var port: Int
    public var tls: ServerTLS
    public var caFile: String?
    public var username: String
    /// The password, sealed with the data directory's key.
    public var secret: Data
    public var requestTypeId: Int64
    public var enabled: Bool
    public var linkedAt: Date
    /// IMAP UIDVALIDITY at link time.
    public var uidValidity: Int64?
    /// IMAP UIDNEXT at link time: only UIDs at or above it are new mail.
    public var uidNextAtLink: Int64?
    /// POP3 UIDLs present at link time: those messages are left alone (JSON array).
    public var pop3LinkedUIDLs: [String]?
    /// The provider it was linked as.
    public var provider: MailProvider = .custom
    /// Further addresses (aliases, forwarding) delivered into this mailbox, routed to this channel.
    public var extraAddresses: [String] = []
    /// What the secret is; an OAuth 2 token is read anew at each login.
    public var authMethod: AuthMethod = .password

    public enum Columns {
        static let address = Column(CodingKeys.address)
        static let accountKey = Column(CodingKeys.accountKey)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A person allowed to raise requests in a project.
public struct Customer: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    public static let databaseTableName = "customer"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var projectId: Int64
    public var address: String
    public var name: String?
    public var createdAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A customer's request in a project's queue (`SD-12`).
public struct ServiceRequest: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord,
    SQLIdentifiedRecord
{
    public static let databaseTableName = "request"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var projectId: Int64
    public var key: String
    public var requestTypeId: Int64
    public var channelId: Int64?
    public var summary: String
    public var description: String
    public var status: RequestStatus
    public var reporter: String
    public var createdAt: Date
    public var updatedAt: Date
    /// The agent the request is assigned to (`assignRequest`), nil when unassigned.
    public var assigneeId: Int64? = nil

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A comment on a request: public ones are mailed to the customer, internal ones are not.
public struct Comment: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    public static let databaseTableName = "comment"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var requestId: Int64
    public var author: String
    public var body: String
    public var isPublic: Bool
    public var source: CommentSource
    public var inboundId: Int64?
    public var createdAt: Date

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// The SMTP relay notifications go out through (one per installation).
public struct SMTPSettings: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord, SQLRecord {
    public static let databaseTableName = "smtpSettings"
    public static var tableName: String { databaseTableName }
    public var id: Int64 = 1
    public var host: String
    public var port: Int
    public var tls: ServerTLS
    public var caFile: String?
    public var fromAddress: String
    public var username: String?
    public var secret: Data?
    /// What the secret is, as for channels.
    public var authMethod: AuthMethod = .password
}

/// Whether a sender may raise requests in a project.
public enum Admission: Sendable, Equatable {
    case admitted
    /// Restricted signup and the sender is neither a customer nor on the allow list.
    case notCustomer
    /// The sender's address or domain is on the block list (the pattern that matched).
    case blocked(String)
}
