import Foundation
import GRDB

/// An app registration as the admin asks for it, with the provider's endpoints already filled in:
/// what `DeskStore.addOAuthApp` checks and stores.
public struct OAuthAppDraft: Sendable, Equatable {
    public var name: String
    public var provider: OAuthProvider
    public var clientId: String
    /// Nil for a public client (one without a secret).
    public var clientSecret: String?
    /// The Microsoft tenant the endpoints name; nil for other providers.
    public var tenant: String?
    /// Where the user grants access (the authorization code grant, RFC 6749 §3.1); nil when the
    /// server offers only the device flow.
    public var authorizationURL: String?
    /// Where codes and refresh tokens become access tokens (RFC 6749 §3.2).
    public var tokenURL: String
    /// Where the device flow starts (RFC 8628 §3.1); nil when the server does not offer it.
    public var deviceAuthorizationURL: String?
    public var scopes: [String]
    /// PEM file of a private CA the endpoints' certificates chain to.
    public var caFile: String?

    public init(
        name: String, provider: OAuthProvider, clientId: String, clientSecret: String?, tenant: String?,
        authorizationURL: String?, tokenURL: String, deviceAuthorizationURL: String?, scopes: [String],
        caFile: String?
    ) {
        self.name = name
        self.provider = provider
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.tenant = tenant
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.deviceAuthorizationURL = deviceAuthorizationURL
        self.scopes = scopes
        self.caFile = caFile
    }
}

/// A stored OAuth 2.0 app registration: the admin's own client id (and sealed secret) at one
/// provider, with the endpoints and scopes the flows use.
public struct OAuthApp: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    public static let databaseTableName = "oauthApp"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    /// Unique, compared without case; channels and the relay will name the app by it.
    public var name: String
    public var provider: OAuthProvider
    public var clientId: String
    /// The client secret sealed by `SecretBox`; nil for a public client.
    public var secret: Data?
    public var tenant: String?
    public var authorizationURL: String?
    public var tokenURL: String
    public var deviceAuthorizationURL: String?
    public var scopes: [String]
    public var caFile: String?
    public var createdAt: Date

    public enum Columns {
        static let name = Column(CodingKeys.name)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    init(
        name: String, provider: OAuthProvider, clientId: String, secret: Data?, tenant: String?,
        authorizationURL: String?, tokenURL: String, deviceAuthorizationURL: String?, scopes: [String],
        caFile: String?, createdAt: Date
    ) {
        self.name = name
        self.provider = provider
        self.clientId = clientId
        self.secret = secret
        self.tenant = tenant
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.deviceAuthorizationURL = deviceAuthorizationURL
        self.scopes = scopes
        self.caFile = caFile
        self.createdAt = createdAt
    }

    /// Read column by column, as the other records are; a value that does not convert (an unknown
    /// provider, scopes that are not a JSON list of strings) throws, as decoding would.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        name = try row.decode(forColumn: "name")
        provider = try row.decode(forColumn: "provider")
        clientId = try row.decode(forColumn: "clientId")
        secret = try row.decode(forColumn: "secret")
        tenant = try row.decode(forColumn: "tenant")
        authorizationURL = try row.decode(forColumn: "authorizationURL")
        tokenURL = try row.decode(forColumn: "tokenURL")
        deviceAuthorizationURL = try row.decode(forColumn: "deviceAuthorizationURL")
        let scopeText: String = try row.decode(forColumn: "scopes")
        scopes = try JSONDecoder().decode([String].self, from: Data(scopeText.utf8))
        caFile = try row.decode(forColumn: "caFile")
        createdAt = try row.decode(forColumn: "createdAt")
    }

    /// Whether a client secret is stored; the secret itself never leaves the store but to a flow.
    public var hasSecret: Bool { secret != nil }

    /// How `channel add --oauth-app` signs in when not told: the device flow where the app has one, except at
    /// Google, whose device flow does not grant the Gmail scope (https://mail.google.com/).
    public var defaultSignIn: OAuthSignIn {
        deviceAuthorizationURL != nil && provider != .google ? .device : .browser
    }
}

/// Who uses an OAuth app: an app in use is not removed, or those logins would break.
public struct OAuthAppUsage: Sendable, Equatable {
    /// Addresses of the channels that log in with the app's grants.
    public var channels: [String]
    /// Whether the SMTP relay logs in with it.
    public var relay: Bool

    public init(channels: [String] = [], relay: Bool = false) {
        self.channels = channels
        self.relay = relay
    }

    /// Why the app named `name` cannot be removed, or nil when nothing uses it.
    public func refusal(name: String) -> DeskError? {
        var users = channels.sorted().map { "channel \($0)" }
        if relay { users.append("the SMTP relay") }
        guard !users.isEmpty else { return nil }
        return DeskError(
            .conflict,
            "OAuth app \(name) is used by \(users.joined(separator: ", ")); switch those to another app or a password first"
        )
    }
}
