import Foundation

/// Why the server refused a request, and how each provider style words it.
///
/// The `error` values are RFC 6749 §5.2's, RFC 8628 §3.5's and RFC 7009 §2.2.1's. The `AADSTS` numbers are the ones
/// Microsoft Entra ID sends for the same situation; Entra ID never sends `slow_down`, so that one borrows the
/// pending code.
public enum OAuthFailure: Error, Sendable, Hashable {
    /// A required parameter is missing or repeated (RFC 6749 §3.1, §3.2).
    case invalidRequest(String)
    /// `grant_type` is not one this server knows (RFC 6749 §5.2).
    case unsupportedGrantType(String)
    /// No client with this id (RFC 6749 §5.2 `invalid_client`).
    case unknownClient
    /// A confidential client sent no secret.
    case missingClientSecret
    /// A confidential client sent the wrong secret.
    case wrongClientSecret
    /// A public client sent a secret.
    case publicClientSentSecret
    /// A scope the client is not registered for (RFC 6749 §3.3, §5.2).
    case invalidScope([String])
    /// The user has not yet approved the device code (RFC 8628 §3.5).
    case authorizationPending
    /// Polled sooner than the interval (RFC 8628 §3.5); the interval grows by 5 s.
    case slowDown
    /// The user denied the request (RFC 8628 §3.5, RFC 6749 §4.1.2.1).
    case accessDenied
    /// The device code expired before it was approved (RFC 8628 §3.5).
    case expiredToken
    /// The device code is unknown, another client's, or already redeemed.
    case badVerificationCode
    /// The authorization code is unknown, another client's or expired (RFC 6749 §4.1.3, §5.2).
    case invalidAuthorizationCode
    /// The authorization code was already redeemed (RFC 6749 §4.1.2): the grant it gave is revoked too.
    case authorizationCodeRedeemed
    /// `redirect_uri` differs from the authorization request's (RFC 6749 §4.1.3).
    case redirectURIMismatch
    /// The PKCE `code_verifier` is missing, malformed or does not match the challenge (RFC 7636 §4.6).
    case codeVerifierMismatch
    /// The refresh token is unknown, another client's, or was replaced by rotation (RFC 6749 §6, §10.4).
    case invalidRefreshToken
    /// The grant was revoked because the user's password changed (Entra ID AADSTS50173).
    case grantRevokedPasswordChanged
    /// The grant expired after inactivity (Entra ID AADSTS700082).
    case grantExpired
    /// The grant was revoked by the client (RFC 7009) or an admin.
    case grantRevoked
    /// The authenticated client may not use this token (RFC 6749 §5.2 `unauthorized_client`).
    case unauthorizedClient
    /// `response_type` other than `code` (RFC 6749 §4.1.2.1).
    case unsupportedResponseType(String)

    /// The RFC's `error` code.
    public var error: String {
        switch self {
        case .invalidRequest: "invalid_request"
        case .unsupportedGrantType: "unsupported_grant_type"
        case .unknownClient, .missingClientSecret, .wrongClientSecret, .publicClientSentSecret: "invalid_client"
        case .invalidScope: "invalid_scope"
        case .authorizationPending: "authorization_pending"
        case .slowDown: "slow_down"
        case .accessDenied: "access_denied"
        case .expiredToken: "expired_token"
        case .badVerificationCode, .invalidAuthorizationCode, .authorizationCodeRedeemed, .redirectURIMismatch,
            .codeVerifierMismatch, .invalidRefreshToken, .grantRevokedPasswordChanged, .grantExpired, .grantRevoked:
            "invalid_grant"
        case .unauthorizedClient: "unauthorized_client"
        case .unsupportedResponseType: "unsupported_response_type"
        }
    }

    /// Entra ID's AADSTS number and text for this failure.
    var microsoft: (code: Int, text: String) {
        switch self {
        case .invalidRequest(let name):
            (900144, "The request body must contain the following parameter: '\(name)'.")
        case .unsupportedGrantType(let type):
            (70003, "The app requested an unsupported grant type '\(type)'.")
        case .unknownClient:
            (700016, "Application with identifier was not found in the directory 'Test Tenant'.")
        case .missingClientSecret:
            (7_000_218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        case .wrongClientSecret:
            (
                7_000_215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                    + "secret value, not the client secret ID, for a secret added to app."
            )
        case .publicClientSentSecret:
            (700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.")
        case .invalidScope(let scopes):
            (
                70011,
                "The provided value for the input parameter 'scope' is not valid. "
                    + "The scope '\(scopes.joined(separator: " "))' does not exist."
            )
        case .authorizationPending:
            (70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
        case .slowDown:
            (70016, "OAuth 2.0 device flow error. Polling too fast. Slow down.")
        case .accessDenied:
            (65004, "User declined to consent to access the app.")
        case .expiredToken:
            (70019, "Verification code expired.")
        case .badVerificationCode:
            (70018, "Invalid verification code. The user typed in an incorrect user code for the device code flow.")
        case .invalidAuthorizationCode:
            (
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. "
                    + "Send a new interactive authorization request for this user and resource."
            )
        case .authorizationCodeRedeemed:
            (
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an "
                    + "existing refresh token."
            )
        case .redirectURIMismatch:
            (
                50148,
                "The redirect_uri specified in the token request does not match the one used in the "
                    + "authorization request."
            )
        case .codeVerifierMismatch:
            (501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
        case .invalidRefreshToken:
            (9_002_313, "Invalid request. Request is malformed or invalid. The provided refresh token is not valid.")
        case .grantRevokedPasswordChanged:
            (
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
                    + "The user might have changed or reset their password."
            )
        case .grantExpired:
            (
                700082,
                "The refresh token has expired due to inactivity. The token was issued on "
                    + "2026-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00."
            )
        case .grantRevoked:
            (70000, "The provided value for the 'refresh_token' is not valid. The grant was revoked.")
        case .unauthorizedClient:
            (700024, "The token was not issued to this client.")
        case .unsupportedResponseType(let type):
            (70005, "response_type '\(type)' is not supported for the application.")
        }
    }

    /// Google's `error_description` and HTTP status for this failure.
    var google: (text: String, status: Int) {
        switch self {
        case .invalidRequest(let name): ("Missing required parameter: \(name)", 400)
        case .unsupportedGrantType(let type): ("Invalid grant_type: \(type)", 400)
        case .unknownClient: ("The OAuth client was not found.", 401)
        case .missingClientSecret: ("client_secret is missing.", 400)
        case .wrongClientSecret: ("Unauthorized", 401)
        case .publicClientSentSecret: ("Unauthorized", 401)
        case .invalidScope(let scopes): ("Some requested scopes were invalid. {invalid=\(scopes)}", 400)
        case .authorizationPending: ("Precondition Required.", 428)
        case .slowDown: ("Forbidden.", 403)
        case .accessDenied: ("Forbidden.", 403)
        case .expiredToken: ("Bad Request", 400)
        case .badVerificationCode: ("Bad Request", 400)
        case .invalidAuthorizationCode: ("Malformed auth code.", 400)
        case .authorizationCodeRedeemed: ("Bad Request", 400)
        case .redirectURIMismatch: ("Bad Request", 400)
        case .codeVerifierMismatch: ("Invalid code verifier.", 400)
        case .invalidRefreshToken, .grantRevokedPasswordChanged, .grantExpired, .grantRevoked:
            ("Token has been expired or revoked.", 400)
        case .unauthorizedClient: ("Unauthorized", 401)
        case .unsupportedResponseType(let type): ("Invalid response_type: \(type)", 400)
        }
    }

    /// The HTTP status for this failure in `style`: 400, or 401 for `invalid_client` (RFC 6749 §5.2), or Google's.
    func status(in style: OAuthErrorStyle) -> Int {
        switch style {
        case .microsoft: error == "invalid_client" ? 401 : 400
        case .google: google.status
        }
    }

    /// The JSON error body (RFC 6749 §5.2) in `style`.
    func body(in style: OAuthErrorStyle, at now: Date) -> [String: any Sendable] {
        switch style {
        case .microsoft:
            let (code, text) = microsoft
            let trace = UUID().uuidString.lowercased()
            let correlation = UUID().uuidString.lowercased()
            let formatter = ISO8601DateFormatter()
            let timestamp = formatter.string(from: now)
            return [
                "error": error,
                "error_description":
                    "AADSTS\(code): \(text) Trace ID: \(trace) Correlation ID: \(correlation) Timestamp: \(timestamp)",
                "error_codes": [code],
                "timestamp": timestamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": "https://login.microsoftonline.com/error?code=\(code)",
            ]
        case .google:
            return ["error": error, "error_description": google.text]
        }
    }
}
