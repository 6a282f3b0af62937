/// One app registration at one provider: its id and secret, its endpoints and the scopes postdesk asks for.
public struct OAuthClientConfiguration: Sendable, Equatable {
    /// Whose error wording and quirks to expect.
    public var style: OAuthProviderStyle
    /// The `client_id` (RFC 6749 §2.2).
    public var clientId: String
    /// The `client_secret` of a confidential client (RFC 6749 §2.3.1); `nil` for a public client.
    public var clientSecret: String?
    /// The token endpoint (RFC 6749 §3.2).
    public var tokenURL: String
    /// The device authorization endpoint (RFC 8628 §3.1), when the device flow is used.
    public var deviceAuthorizationURL: String?
    /// The authorization endpoint (RFC 6749 §3.1), when the authorization code flow is used.
    public var authorizationURL: String?
    /// The scopes to ask for (RFC 6749 §3.3), sent space-separated.
    public var scopes: [String]
    /// A PEM file of a private CA that signs the endpoints' certificates; `nil` trusts the system's roots.
    public var caFile: String?

    /// A configuration; only `tokenURL` is needed for refreshing.
    public init(
        style: OAuthProviderStyle, clientId: String, clientSecret: String? = nil, tokenURL: String,
        deviceAuthorizationURL: String? = nil, authorizationURL: String? = nil, scopes: [String],
        caFile: String? = nil
    ) {
        self.style = style
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.tokenURL = tokenURL
        self.deviceAuthorizationURL = deviceAuthorizationURL
        self.authorizationURL = authorizationURL
        self.scopes = scopes
        self.caFile = caFile
    }
}
