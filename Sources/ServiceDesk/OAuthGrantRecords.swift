import Foundation
import GRDB

/// Whose login an OAuth 2.0 grant is: one channel's mailbox, or the SMTP relay.
public enum OAuthGrantOwner: Sendable, Hashable, CustomStringConvertible {
    case channel(Int64)
    case relay

    public var description: String {
        switch self {
        case .channel(let id): "channel \(id)"
        case .relay: "the SMTP relay"
        }
    }
}

/// Tokens as a flow or a refresh brings them, in clear: only the token keeper and the flows hold them.
public struct OAuthTokenSet: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String
    /// When the access token stops working, by the provider's `expires_in`; nil when it did not say.
    public var accessExpiresAt: Date?

    public init(accessToken: String, refreshToken: String, accessExpiresAt: Date?) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.accessExpiresAt = accessExpiresAt
    }
}

/// A grant with its app and its tokens opened: what the token keeper refreshes and logs in with.
public struct LiveOAuthGrant: Sendable, Equatable {
    public var id: Int64
    public var owner: OAuthGrantOwner
    public var app: OAuthApp
    /// The app's client secret, opened; nil for a public client.
    public var clientSecret: String?
    public var refreshToken: String
    public var accessToken: String?
    public var accessExpiresAt: Date?
    public var grantedAt: Date
    public var lastRefreshAt: Date?
    public var refreshCount: Int
    /// Why the grant no longer works (the provider refused a refresh), in one line with the fix; nil while it works.
    public var failure: String?
}

/// What `status` shows of a grant: never a token.
public struct OAuthGrantSummary: Sendable, Equatable {
    public var owner: OAuthGrantOwner
    public var appName: String
    public var grantedAt: Date
    public var lastRefreshAt: Date?
    public var accessExpiresAt: Date?
    public var refreshCount: Int
    public var failure: String?
    public var failedAt: Date?
}

/// The stored grant row; tokens sealed by `SecretBox`.
struct OAuthGrantRow: Codable, Sendable, FetchableRecord, PersistableRecord, SQLIdentifiedRecord {
    static let databaseTableName = "oauthGrant"
    static var tableName: String { databaseTableName }
    var id: Int64?
    var appId: Int64
    var channelId: Int64?
    var relay: Bool
    var refreshToken: Data
    var accessToken: Data?
    var accessExpiresAt: Date?
    var grantedAt: Date
    var lastRefreshAt: Date?
    var refreshCount: Int
    var failure: String?
    var failedAt: Date?

    init(
        appId: Int64, owner: OAuthGrantOwner, refreshToken: Data, accessToken: Data?, accessExpiresAt: Date?,
        grantedAt: Date
    ) {
        self.appId = appId
        switch owner {
        case .channel(let id): (channelId, relay) = (id, false)
        case .relay: (channelId, relay) = (nil, true)
        }
        self.refreshToken = refreshToken
        self.accessToken = accessToken
        self.accessExpiresAt = accessExpiresAt
        self.grantedAt = grantedAt
        self.refreshCount = 0
    }

    init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        appId = try row.decode(forColumn: "appId")
        channelId = try row.decode(forColumn: "channelId")
        relay = try row.decode(forColumn: "relay")
        refreshToken = try row.decode(forColumn: "refreshToken")
        accessToken = try row.decode(forColumn: "accessToken")
        accessExpiresAt = try row.decode(forColumn: "accessExpiresAt")
        grantedAt = try row.decode(forColumn: "grantedAt")
        lastRefreshAt = try row.decode(forColumn: "lastRefreshAt")
        refreshCount = try row.decode(forColumn: "refreshCount")
        failure = try row.decode(forColumn: "failure")
        failedAt = try row.decode(forColumn: "failedAt")
    }

    func encode(to container: inout PersistenceContainer) throws {
        container["id"] = id
        container["appId"] = appId
        container["channelId"] = channelId
        container["relay"] = relay
        container["refreshToken"] = refreshToken
        container["accessToken"] = accessToken
        container["accessExpiresAt"] = accessExpiresAt
        container["grantedAt"] = grantedAt
        container["lastRefreshAt"] = lastRefreshAt
        container["refreshCount"] = refreshCount
        container["failure"] = failure
        container["failedAt"] = failedAt
    }

    var owner: OAuthGrantOwner {
        if let channelId { return .channel(channelId) }
        return .relay
    }

    /// The condition on `oauthGrant` that picks the grant of `owner`.
    static func condition(owner: OAuthGrantOwner) -> (sql: String, arguments: SQLArguments) {
        switch owner {
        case .channel(let id): ("channelId = ?", [id])
        case .relay: ("relay = 1", [])
        }
    }

    static func filter(owner: OAuthGrantOwner) -> QueryInterfaceRequest<OAuthGrantRow> {
        switch owner {
        case .channel(let id): OAuthGrantRow.filter(Column("channelId") == id)
        case .relay: OAuthGrantRow.filter(Column("relay") == true)
        }
    }
}
