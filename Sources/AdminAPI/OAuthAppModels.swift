import EmailChannel
import Foundation
import ServiceDesk

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

    init(_ app: OAuthApp) {
        name = app.name
        provider = app.provider
        clientId = app.clientId
        tenant = app.tenant
        authorizationURL = app.authorizationURL
        tokenURL = app.tokenURL
        deviceAuthorizationURL = app.deviceAuthorizationURL
        scopes = app.scopes
        caFile = app.caFile
        secretSet = app.hasSecret
        createdAt = app.createdAt
        signIn = app.defaultSignIn
    }
}

/// The answer of `DELETE /v1/oauth/apps/{name}`.
public struct OAuthAppRemoved: Codable, Sendable {
    public var removed: String
}

extension OAuthAppBody {
    /// The registration this body describes, with a preset's endpoints and scopes filled in: the one reading of
    /// a body. A preset refuses what only `custom` takes, so that nothing the admin typed is silently ignored.
    func draft() throws -> OAuthAppDraft {
        if let preset = try ProviderProfile.oauth(provider, tenant: tenant) {
            let customOnly: [(Bool, String)] = [
                (authorizationURL != nil, "--authorization-url"), (tokenURL != nil, "--token-url"),
                (deviceAuthorizationURL != nil, "--device-authorization-url"), (!(scopes ?? []).isEmpty, "--scope"),
                (caFile != nil, "--ca-file"),
            ]
            let given = customOnly.filter(\.0).map(\.1)
            guard given.isEmpty else {
                throw DeskError(
                    .invalid,
                    "\(given.joined(separator: ", ")) \(given.count == 1 ? "is" : "are") only for --provider custom; "
                        + "the \(provider.rawValue) preset brings its own endpoints and scopes")
            }
            return OAuthAppDraft(
                name: name, provider: provider, clientId: clientId, clientSecret: clientSecret, tenant: preset.tenant,
                authorizationURL: preset.authorizationURL, tokenURL: preset.tokenURL,
                deviceAuthorizationURL: preset.deviceAuthorizationURL, scopes: preset.scopes, caFile: nil)
        }
        guard tenant == nil else { throw DeskError(.invalid, "--tenant is for --provider microsoft") }
        guard let tokenURL else { throw DeskError(.invalid, "a custom OAuth app needs --token-url") }
        return OAuthAppDraft(
            name: name, provider: provider, clientId: clientId, clientSecret: clientSecret, tenant: nil,
            authorizationURL: authorizationURL, tokenURL: tokenURL, deviceAuthorizationURL: deviceAuthorizationURL,
            scopes: scopes ?? [], caFile: caFile)
    }
}
