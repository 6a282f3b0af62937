import Foundation

/// Body of `POST /v1/oauth/apps`: the admin's app registration. Endpoints and scopes are given only
/// for `custom`; the presets bring their own.
public struct OAuthAppBody: Codable, Sendable {
    public var name: String
    public var provider: OAuthProvider
    public var clientId: String
    /// Read by the CLI from a file or stdin, never from its command line.
    public var clientSecret: String?
    public var tenant: String?
    public var authorizationURL: String?
    public var tokenURL: String?
    public var deviceAuthorizationURL: String?
    public var scopes: [String]?
    public var caFile: String?

    public init(
        name: String, provider: OAuthProvider, clientId: String, clientSecret: String? = nil, tenant: String? = nil,
        authorizationURL: String? = nil, tokenURL: String? = nil, deviceAuthorizationURL: String? = nil,
        scopes: [String]? = nil, caFile: String? = nil
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

/// An app registration as the API shows it: whether a secret is set, never the secret.
public struct OAuthAppView: Codable, Sendable {
    public var name: String
    public var provider: OAuthProvider
    public var clientId: String
    public var tenant: String?
    public var authorizationURL: String?
    public var tokenURL: String
    public var deviceAuthorizationURL: String?
    public var scopes: [String]
    public var caFile: String?
    public var secretSet: Bool
    public var createdAt: Date
    /// How a sign-in with this app goes unless the admin says otherwise.
    public var signIn: OAuthSignIn

    /// Makes the value from its fields.
    public init(
        name: String, provider: OAuthProvider, clientId: String, tenant: String? = nil, authorizationURL: String? = nil,
        tokenURL: String, deviceAuthorizationURL: String? = nil, scopes: [String], caFile: String? = nil,
        secretSet: Bool, createdAt: Date, signIn: OAuthSignIn
    ) {
        self.name = name
        self.provider = provider
        self.clientId = clientId
        self.tenant = tenant
        self.authorizationURL = authorizationURL
        self.tokenURL = tokenURL
        self.deviceAuthorizationURL = deviceAuthorizationURL
        self.scopes = scopes
        self.caFile = caFile
        self.secretSet = secretSet
        self.createdAt = createdAt
        self.signIn = signIn
    }
}

/// The answer of `DELETE /v1/oauth/apps/{name}`.
public struct OAuthAppRemoved: Codable, Sendable {
    public var removed: String

    /// Makes the value from its fields.
    public init(removed: String) {
        self.removed = removed
    }
}
