/// How the test server behaves: token lifetimes, rotation, the device flow's timing and who may introspect.
public struct OAuthTestServerConfiguration: Sendable {
    /// `expires_in` of every access token, in seconds (RFC 6749 §5.1).
    public var accessTokenLifetime: Int = 3600
    /// What a refresh does to the refresh token (RFC 6749 §6).
    public var refreshTokenRotation: OAuthRefreshTokenRotation = .rotate
    /// `expires_in` of a device code, in seconds (RFC 8628 §3.2).
    public var deviceCodeLifetime: Int = 900
    /// The polling `interval` a device code starts with, in seconds (RFC 8628 §3.2).
    public var pollingInterval: Int = 5
    /// How long an authorization code may be redeemed, in seconds (RFC 6749 §4.1.2: at most 10 minutes).
    public var authorizationCodeLifetime: Int = 600
    /// The protected resource (Dovecot) that may call the introspection endpoint (RFC 7662 §2.1), by HTTP Basic or
    /// `client_id`/`client_secret` in the body; `nil` lets anyone introspect.
    public var introspectionCredentials: (id: String, secret: String)? = ("dovecot", "dovecot-introspection-secret")
    /// The error style for requests that name no registered client.
    public var defaultStyle: OAuthErrorStyle = .microsoft
    /// The server's clock; tests move it forward to expire tokens and codes.
    public var clock = OAuthTestClock()

    /// The defaults: one-hour access tokens, rotation that refuses the old refresh token, 5 s polling.
    public init() {}
}

/// What the refresh_token grant does with the refresh token it was given (RFC 6749 §6).
public enum OAuthRefreshTokenRotation: Sendable, Hashable {
    /// A new refresh token each time; the old one is refused with `invalid_grant` afterwards.
    case rotate
    /// A new refresh token each time, and the old one keeps working (Entra ID's usual behaviour).
    case rotateKeepingOld
    /// The same refresh token stays valid; the response has no `refresh_token` (Google's usual behaviour).
    case reuse
}

/// Why a test revoked a user's grants, which decides the `invalid_grant` text a refresh then gets.
public enum OAuthRevocationReason: Sendable, Hashable {
    /// The user changed or reset their password (Entra ID AADSTS50173).
    case passwordChanged
    /// The refresh token expired after inactivity (Entra ID AADSTS700082).
    case expiredAfterInactivity
    /// An admin or the user removed the app's access.
    case revoked
}

/// What the authorization endpoint does for a client's next requests (the test plays the signed-in user).
public enum OAuthAuthorizationDecision: Sendable, Hashable {
    /// The user signs in and consents: the endpoint redirects with a code.
    case approve(user: String)
    /// The user declines: the endpoint redirects with `error=access_denied` (RFC 6749 §4.1.2.1).
    case deny
}

/// Tokens the server issued, as a token response carries them (RFC 6749 §5.1).
public struct OAuthTokenSet: Sendable, Hashable {
    /// The access token.
    public var accessToken: String
    /// The refresh token, if one was issued.
    public var refreshToken: String?
    /// Seconds until the access token expires.
    public var expiresIn: Int
    /// The granted scopes.
    public var scopes: [String]
}

/// One grant (a user's consent to one client) as the server holds it now.
public struct OAuthGrantSnapshot: Sendable, Hashable {
    /// The client the grant belongs to.
    public var clientID: String
    /// The user who consented.
    public var user: String
    /// The granted scopes.
    public var scopes: [String]
    /// The refresh tokens that a refresh would accept now (more than one with `.rotateKeepingOld`).
    public var validRefreshTokens: [String]
    /// The access tokens that introspect as active now.
    public var activeAccessTokens: [String]
    /// How many refresh_token grants succeeded on this grant.
    public var refreshCount: Int
    /// Whether the grant was revoked.
    public var isRevoked: Bool
}

/// A test-side misuse of the server's API, such as approving an unknown user code.
public struct OAuthTestServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// An error saying what went wrong.
    public init(description: String) {
        self.description = description
    }
}
