/// Whose error bodies and quirks an app registration imitates.
public enum OAuthErrorStyle: String, Sendable, Hashable, CaseIterable {
    /// Microsoft Entra ID: `error`, `error_description` starting with an `AADSTS` code, `error_codes`, trace and
    /// correlation ids; HTTP 400 (401 for `invalid_client`).
    case microsoft
    /// Google: `error` and a short `error_description`; HTTP 428 for `authorization_pending` and 403 for
    /// `slow_down` and `access_denied`, and `verification_url` in the device authorization response.
    case google
}

/// One app registration at the test server (RFC 6749 §2): its id, its secret if it is a confidential client, the
/// scopes it may ask for and whose error style it gets.
public struct OAuthClientRegistration: Sendable, Hashable {
    /// The `client_id` (RFC 6749 §2.2).
    public var id: String
    /// The `client_secret` of a confidential client (RFC 6749 §2.3.1); `nil` for a public client.
    public var secret: String?
    /// Whose error bodies this client gets.
    public var style: OAuthErrorStyle
    /// The scopes this client may be granted; a request for others is `invalid_scope` (RFC 6749 §3.3). An empty
    /// request gets all of them.
    public var scopes: [String]
    /// Whether the authorization code grant needs PKCE (RFC 7636); public clients always need it here.
    public var requiresPKCE: Bool

    /// A client registration; `secret` makes it confidential.
    public init(
        id: String, secret: String? = nil, style: OAuthErrorStyle = .microsoft, scopes: [String],
        requiresPKCE: Bool = true
    ) {
        self.id = id
        self.secret = secret
        self.style = style
        self.scopes = scopes
        self.requiresPKCE = requiresPKCE
    }

    /// Whether this is a confidential client (RFC 6749 §2.1).
    public var isConfidential: Bool { secret != nil }
}
