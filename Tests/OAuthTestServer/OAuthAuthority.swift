import Crypto
import Foundation

/// The authorization server's state and rules, independent of HTTP: clients, device codes, authorization codes,
/// grants and tokens. Every method runs under one lock, so each request sees and leaves a consistent state.
final class OAuthAuthority: @unchecked Sendable {
    let configuration: OAuthTestServerConfiguration
    /// Where the server listens (`http://127.0.0.1:PORT`), for the verification address.
    let baseURL: String

    // Guards every stored property below.
    let lock = NSLock()
    var clients: [String: OAuthClientRegistration] = [:]
    var deviceCodes: [String: DeviceAuthorization] = [:]
    /// Normalized user code → device code.
    var userCodes: [String: String] = [:]
    var authorizationCodes: [String: AuthorizationCode] = [:]
    var decisions: [String: OAuthAuthorizationDecision] = [:]
    var grants: [String: Grant] = [:]
    var accessTokens: [String: AccessToken] = [:]
    var refreshTokens: [String: RefreshToken] = [:]
    var accessTokenLifetime: Int
    var introspectionCount = 0

    /// A device code and what the user has done with it (RFC 8628 §3.1–3.5).
    struct DeviceAuthorization {
        enum State {
            case pending
            case approved(user: String)
            case denied, redeemed
        }
        var clientID: String
        var userCode: String
        var scopes: [String]
        var expiresAt: Date
        var interval: Int
        var lastPoll: Date?
        var state: State = .pending
    }

    /// An authorization code, bound to its client, redirect URI and PKCE challenge (RFC 6749 §4.1.2, RFC 7636 §4.4).
    struct AuthorizationCode {
        var clientID: String
        var user: String
        var scopes: [String]
        var redirectURI: String
        var challenge: String?
        var challengeMethod: String
        var expiresAt: Date
        var grantID: String?
    }

    /// One user's consent to one client; its tokens die with it.
    struct Grant {
        var clientID: String
        var user: String
        var scopes: [String]
        var revocation: OAuthRevocationReason?
        var refreshCount = 0
        var createdAt: Date
    }

    struct AccessToken {
        var grantID: String
        var scopes: [String]
        var issuedAt: Date
        var expiresAt: Date
        var revoked = false
    }

    struct RefreshToken {
        var grantID: String
        /// False once rotation replaced it (with `.rotate`) or it was revoked.
        var valid = true
        var issuedAt: Date
    }

    init(configuration: OAuthTestServerConfiguration, baseURL: String) {
        self.configuration = configuration
        self.baseURL = baseURL
        self.accessTokenLifetime = configuration.accessTokenLifetime
    }

    var now: Date { configuration.clock.now }

    // MARK: Shared rules (call with the lock held)

    /// RFC 6749 §2.3.1: HTTP Basic or `client_id`/`client_secret` in the body, never both (§2.3); a public client
    /// names itself with `client_id` and sends no secret. `style` becomes the named client's as soon as it is known.
    func authenticateClient(
        _ form: FormParameters, authorization: String?, style: inout OAuthErrorStyle
    ) throws(OAuthFailure) -> OAuthClientRegistration {
        let basic = BasicCredentials(header: authorization)
        if basic != nil, form["client_secret"] != nil { throw .invalidRequest("client_secret") }
        if let basic, let named = form["client_id"], named != basic.id { throw .invalidRequest("client_id") }
        guard let id = basic?.id ?? form["client_id"] else { throw .invalidRequest("client_id") }
        guard let client = clients[id] else { throw .unknownClient }
        style = client.style
        let presented = (basic?.secret ?? form["client_secret"]).flatMap { $0.isEmpty ? nil : $0 }
        if let secret = client.secret {
            guard let presented else { throw .missingClientSecret }
            guard presented == secret else { throw .wrongClientSecret }
        } else if presented != nil {
            throw .publicClientSentSecret
        }
        return client
    }

    /// The style of the client a request names, before it is authenticated.
    func style(naming form: FormParameters, authorization: String?) -> OAuthErrorStyle {
        let id = BasicCredentials(header: authorization)?.id ?? form["client_id"]
        return id.flatMap { clients[$0]?.style } ?? configuration.defaultStyle
    }

    /// RFC 6749 §3.3: space-delimited scopes, each one the client is registered for; none asked means all.
    func resolveScopes(_ requested: String?, allowed: [String]) throws(OAuthFailure) -> [String] {
        guard let requested else { return allowed }
        var scopes: [String] = []
        for scope in requested.split(separator: " ").map(String.init) where !scopes.contains(scope) {
            scopes.append(scope)
        }
        let unknown = scopes.filter { !allowed.contains($0) }
        guard unknown.isEmpty else { throw .invalidScope(unknown) }
        return scopes
    }

    /// A new grant with a fresh access token and refresh token.
    func createGrant(client: OAuthClientRegistration, user: String, scopes: [String]) -> (String, OAuthTokenSet) {
        let grantID = Self.randomToken(prefix: "g")
        grants[grantID] = Grant(clientID: client.id, user: user, scopes: scopes, createdAt: now)
        let access = mintAccessToken(grantID: grantID, scopes: scopes)
        let refresh = mintRefreshToken(grantID: grantID)
        return (
            grantID,
            OAuthTokenSet(
                accessToken: access, refreshToken: refresh, expiresIn: accessTokenLifetime, scopes: scopes)
        )
    }

    func mintAccessToken(grantID: String, scopes: [String]) -> String {
        let token = Self.randomToken(prefix: "at")
        let issued = now
        accessTokens[token] = AccessToken(
            grantID: grantID, scopes: scopes, issuedAt: issued,
            expiresAt: issued.addingTimeInterval(TimeInterval(accessTokenLifetime)))
        return token
    }

    func mintRefreshToken(grantID: String) -> String {
        let token = Self.randomToken(prefix: "rt")
        refreshTokens[token] = RefreshToken(grantID: grantID, issuedAt: now)
        return token
    }

    /// Whether an access token would be accepted now: not revoked, not expired, its grant not revoked.
    func isActive(_ token: AccessToken) -> Bool {
        !token.revoked && now < token.expiresAt && grants[token.grantID]?.revocation == nil
    }

    /// The token response (RFC 6749 §5.1), with Entra ID's `ext_expires_in` for its style.
    func tokenResponse(_ tokens: OAuthTokenSet, style: OAuthErrorStyle) -> OAuthHTTPReply {
        var body: [String: any Sendable] = [
            "access_token": tokens.accessToken,
            "token_type": "Bearer",
            "expires_in": tokens.expiresIn,
            "scope": tokens.scopes.joined(separator: " "),
        ]
        if let refresh = tokens.refreshToken { body["refresh_token"] = refresh }
        if style == .microsoft { body["ext_expires_in"] = tokens.expiresIn }
        return .json(body)
    }

    /// 32 random bytes, base64url without padding (RFC 4648 §5), after a prefix that says what the token is.
    static func randomToken(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "\(prefix)." + base64URL(bytes)
    }

    static func base64URL<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// RFC 7636 §4.2: `S256` is BASE64URL(SHA256(ASCII(code_verifier))); `plain` is the verifier itself.
    static func challenge(for verifier: String, method: String) -> String {
        method == "S256" ? base64URL(SHA256.hash(data: Data(verifier.utf8))) : verifier
    }

    /// RFC 7636 §4.1: 43 to 128 characters of `[A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"` (also the challenge's
    /// form, §4.2).
    static func isWellFormedVerifier(_ text: String) -> Bool {
        (43...128).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte)
                    || byte == 0x2d || byte == 0x2e || byte == 0x5f || byte == 0x7e
            }
    }
}
