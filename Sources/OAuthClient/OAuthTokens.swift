/// A successful token response (RFC 6749 §5.1).
public struct OAuthTokens: Sendable, Equatable {
    /// The access token (what XOAUTH2 / OAUTHBEARER send).
    public var accessToken: String
    /// `token_type`, normally `Bearer`.
    public var tokenType: String
    /// Seconds until the access token expires; a JSON number or a numeric string in the answer.
    public var expiresIn: Int?
    /// The new refresh token; `nil` when the server sent none (no rotation: keep the old one).
    public var refreshToken: String?
    /// The granted scopes, when the server said.
    public var scope: String?

    /// Tokens as a token response carries them.
    public init(
        accessToken: String, tokenType: String = "Bearer", expiresIn: Int? = nil, refreshToken: String? = nil,
        scope: String? = nil
    ) {
        self.accessToken = accessToken
        self.tokenType = tokenType
        self.expiresIn = expiresIn
        self.refreshToken = refreshToken
        self.scope = scope
    }
}

extension OAuthTokens: CustomStringConvertible {
    /// Never shows the tokens themselves.
    public var description: String {
        "OAuthTokens(tokenType: \(tokenType), expiresIn: \(expiresIn.map(String.init) ?? "nil"), "
            + "refreshToken: \(refreshToken == nil ? "none" : "present"), scope: \(scope ?? "nil"))"
    }
}
