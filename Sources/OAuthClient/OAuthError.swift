/// Why an OAuth call failed: the kind, the provider's words verbatim, and the diagnosis for the admin.
public struct OAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The closed set of failures a caller decides on (RFC 6749 §5.2 codes, plus ours).
    public enum Kind: Sendable, Equatable {
        /// `invalid_grant`: the refresh token, device code or authorization code is dead (RFC 6749 §5.2).
        case invalidGrant
        /// `access_denied`: the user or a policy declined (RFC 6749 §4.1.2.1, RFC 8628 §3.5).
        case accessDenied
        /// `expired_token`: the device code expired, or the sign-in was not finished in time (RFC 8628 §3.5).
        case expiredToken
        /// `invalid_client`: the client id or secret is wrong (RFC 6749 §5.2).
        case invalidClient
        /// `invalid_scope` (RFC 6749 §5.2).
        case invalidScope
        /// `unauthorized_client`: the client may not use this grant (RFC 6749 §5.2).
        case unauthorizedClient
        /// `unsupported_grant_type` (RFC 6749 §5.2).
        case unsupportedGrantType
        /// `invalid_request`, an error code we do not know, or a configuration we refuse to send.
        case invalidRequest
        /// HTTP 5xx or 429, `server_error`, `temporarily_unavailable`: retrying later can help.
        case serverError
        /// Connecting, TLS or a timeout failed; the message says which.
        case transport
        /// The answer was not JSON, too large, or lacked what it must carry.
        case malformedResponse
    }

    /// What kind of failure this is.
    public var kind: Kind
    /// The `error` field verbatim.
    public var errorCode: String?
    /// The `error_description` field verbatim.
    public var errorDescription: String?
    /// The HTTP status of the answer, when there was one.
    public var httpStatus: Int?
    /// What it means and what to do.
    public var diagnosis: OAuthDiagnosis

    /// An error with every field given.
    public init(
        kind: Kind, errorCode: String? = nil, errorDescription: String? = nil, httpStatus: Int? = nil,
        diagnosis: OAuthDiagnosis
    ) {
        self.kind = kind
        self.errorCode = errorCode
        self.errorDescription = errorDescription
        self.httpStatus = httpStatus
        self.diagnosis = diagnosis
    }

    /// An error from a provider's RFC 6749 §5.2 answer (or a redirect's `error=`, §4.1.2.1), diagnosed.
    public init(style: OAuthProviderStyle, errorCode: String?, errorDescription: String?, httpStatus: Int?) {
        self.init(
            kind: Self.kind(errorCode: errorCode, httpStatus: httpStatus), errorCode: errorCode,
            errorDescription: errorDescription, httpStatus: httpStatus,
            diagnosis: OAuthDiagnosis.diagnose(
                style: style, errorCode: errorCode, errorDescription: errorDescription, httpStatus: httpStatus))
    }

    /// Whether retrying later can help (serverError, transport, temporarily_unavailable) or only an admin can fix it.
    public var isTransient: Bool {
        kind == .serverError || kind == .transport || errorCode == "temporarily_unavailable"
    }

    /// The kind and the diagnosis line; never a token or a secret.
    public var description: String {
        "OAuth \(kind)\(httpStatus.map { " (HTTP \($0))" } ?? ""): \(diagnosis.line)"
    }

    /// RFC 6749 §5.2 and RFC 8628 §3.5 codes to kinds; 5xx and 429 are the server's trouble whatever the body says.
    static func kind(errorCode: String?, httpStatus: Int?) -> Kind {
        if let httpStatus, httpStatus >= 500 || httpStatus == 429 { return .serverError }
        switch errorCode {
        case "invalid_grant", "bad_verification_code": return .invalidGrant
        case "access_denied", "authorization_declined", "admin_policy_enforced", "org_internal",
            "consent_required", "interaction_required":
            return .accessDenied
        case "expired_token", "code_expired": return .expiredToken
        case "invalid_client", "deleted_client": return .invalidClient
        case "invalid_scope": return .invalidScope
        case "unauthorized_client": return .unauthorizedClient
        case "unsupported_grant_type": return .unsupportedGrantType
        case "server_error", "temporarily_unavailable": return .serverError
        default: return .invalidRequest
        }
    }

    /// A refusal of ours, made before anything was sent.
    static func refused(_ summary: String, fix: String) -> OAuthError {
        OAuthError(kind: .invalidRequest, diagnosis: OAuthDiagnosis(summary: summary, fix: fix))
    }

    /// A connection, TLS or timeout failure (`what` says which).
    static func transport(_ what: String, url: String) -> OAuthError {
        OAuthError(
            kind: .transport,
            diagnosis: OAuthDiagnosis(
                summary: "could not talk to \(url): \(what)",
                fix: "check the network, the endpoint address and its certificate; postdesk retries later"))
    }

    /// An answer that is not what RFC 6749 §5.1/§5.2 describe.
    static func malformed(_ what: String, httpStatus: Int, url: String) -> OAuthError {
        OAuthError(
            kind: .malformedResponse, httpStatus: httpStatus,
            diagnosis: OAuthDiagnosis(
                summary: "\(url) answered HTTP \(httpStatus) with \(what)",
                fix: "check that the endpoint address is the provider's token endpoint"))
    }
}
