import Testing

@testable import OAuthClient

/// One provider error and what the diagnosis must say about it.
struct DiagnosisFixture: Sendable, CustomStringConvertible {
    var style: OAuthProviderStyle
    var error: String?
    var errorDescription: String?
    var status: Int?
    var kind: OAuthError.Kind
    var aadsts: Int?
    /// Words the summary must contain (lowercased match).
    var summary: String
    /// Words the fix must contain (lowercased match).
    var fix: String
    var transient = false

    var description: String { "\(style) \(error ?? "-") \(errorDescription?.prefix(30) ?? "")" }
}

private func ms(_ error: String, _ code: Int, _ text: String, status: Int = 400) -> (String, String, Int) {
    (error, "AADSTS\(code): \(text) Trace ID: 0f1e Correlation ID: 9a8b Timestamp: 2026-01-01 00:00:00Z", status)
}

private let reauthorize = "postdesk channel reauthorize address"

let diagnosisFixtures: [DiagnosisFixture] = {
    var rows: [DiagnosisFixture] = []
    func microsoft(
        _ error: String, _ code: Int, _ kind: OAuthError.Kind, summary: String, fix: String, status: Int = 400
    ) {
        let (error, text, status) = ms(error, code, "Entra ID's words.", status: status)
        rows.append(
            DiagnosisFixture(
                style: .microsoft, error: error, errorDescription: text, status: status, kind: kind, aadsts: code,
                summary: summary, fix: fix))
    }
    microsoft("invalid_grant", 50076, .invalidGrant, summary: "multi-factor", fix: reauthorize)
    microsoft("invalid_grant", 50079, .invalidGrant, summary: "multi-factor", fix: "mfa")
    microsoft("invalid_grant", 65001, .invalidGrant, summary: "consent", fix: "admin consent")
    microsoft("invalid_grant", 700082, .invalidGrant, summary: "inactivity", fix: reauthorize)
    microsoft("invalid_grant", 50173, .invalidGrant, summary: "password", fix: reauthorize)
    microsoft("invalid_grant", 53003, .invalidGrant, summary: "conditional access", fix: "conditional access")
    microsoft("invalid_grant", 90072, .invalidGrant, summary: "not in the app's tenant", fix: "invite")
    microsoft("invalid_grant", 70000, .invalidGrant, summary: "revoked", fix: reauthorize)
    microsoft("invalid_grant", 9_002_313, .invalidGrant, summary: "replaced", fix: reauthorize)
    microsoft("invalid_client", 700016, .invalidClient, summary: "client id", fix: "tenant", status: 401)
    microsoft("invalid_client", 7_000_218, .invalidClient, summary: "secret", fix: "public client", status: 401)
    microsoft(
        "invalid_client", 7_000_215, .invalidClient, summary: "secret is wrong", fix: "new client secret", status: 401)
    microsoft("invalid_scope", 70011, .invalidScope, summary: "scope", fix: "imap.accessasuser.all")
    microsoft("access_denied", 65004, .accessDenied, summary: "declined", fix: "again")
    microsoft("expired_token", 70019, .expiredToken, summary: "device code expired", fix: "again")
    microsoft("invalid_grant", 54005, .invalidGrant, summary: "already redeemed", fix: "again")
    microsoft("invalid_grant", 501481, .invalidGrant, summary: "pkce", fix: "again")
    // An AADSTS code behind a custom-style endpoint is still read; an unknown one falls back to the RFC code.
    rows.append(
        DiagnosisFixture(
            style: .custom, error: "invalid_grant", errorDescription: "AADSTS50173: The provided grant has expired.",
            status: 400, kind: .invalidGrant, aadsts: 50173, summary: "password", fix: reauthorize))
    rows.append(
        DiagnosisFixture(
            style: .microsoft, error: "invalid_grant", errorDescription: "AADSTS123456789: Something new.", status: 400,
            kind: .invalidGrant, aadsts: 123_456_789, summary: "no longer valid", fix: reauthorize))
    // Google.
    rows += [
        DiagnosisFixture(
            style: .google, error: "invalid_grant", errorDescription: "Token has been expired or revoked.", status: 400,
            kind: .invalidGrant, summary: "testing", fix: reauthorize),
        DiagnosisFixture(
            style: .google, error: "invalid_grant", errorDescription: "Token has been expired or revoked.", status: 400,
            kind: .invalidGrant, summary: "6 months", fix: "in production"),
        DiagnosisFixture(
            style: .google, error: "admin_policy_enforced", errorDescription: nil, status: 400, kind: .accessDenied,
            summary: "workspace admin policy", fix: "api controls"),
        DiagnosisFixture(
            style: .google, error: "org_internal", errorDescription: nil, status: 403, kind: .accessDenied,
            summary: "internal", fix: "external"),
        DiagnosisFixture(
            style: .google, error: "invalid_client", errorDescription: "Unauthorized", status: 401,
            kind: .invalidClient, summary: "client id or secret", fix: "credentials"),
        DiagnosisFixture(
            style: .google, error: "access_denied", errorDescription: "Forbidden.", status: 403, kind: .accessDenied,
            summary: "test users", fix: "test user"),
        DiagnosisFixture(
            style: .google, error: "invalid_grant", errorDescription: "Malformed auth code.", status: 400,
            kind: .invalidGrant, summary: "no longer valid", fix: reauthorize),
    ]
    // RFC codes alone, and the server's trouble.
    rows += [
        DiagnosisFixture(
            style: .custom, error: "unauthorized_client", status: 400, kind: .unauthorizedClient, summary: "flow",
            fix: "enable"),
        DiagnosisFixture(
            style: .custom, error: "unsupported_grant_type", status: 400, kind: .unsupportedGrantType,
            summary: "grant type", fix: "token endpoint"),
        DiagnosisFixture(
            style: .custom, error: "invalid_request", status: 400, kind: .invalidRequest, summary: "malformed",
            fix: "endpoint"),
        DiagnosisFixture(
            style: .custom, error: "temporarily_unavailable", status: 400, kind: .serverError, summary: "temporary",
            fix: "tries again", transient: true),
        DiagnosisFixture(
            style: .microsoft, error: "server_error", errorDescription: nil, status: 503, kind: .serverError,
            summary: "http 503", fix: "tries again", transient: true),
        DiagnosisFixture(
            style: .custom, error: nil, status: 429, kind: .serverError, summary: "temporary", fix: "tries again",
            transient: true),
        DiagnosisFixture(
            style: .custom, error: "something_new", errorDescription: "?", status: 400, kind: .invalidRequest,
            summary: "something_new", fix: "app registration"),
    ]
    return rows
}()

@Suite("OAuthClient: the diagnosis of provider errors")
struct OAuthDiagnosisTests {
    @Test(
        "each provider error gets its kind, its AADSTS number, our summary and the right fix",
        arguments: diagnosisFixtures)
    func fixture(_ row: DiagnosisFixture) {
        let error = OAuthError(
            style: row.style, errorCode: row.error, errorDescription: row.errorDescription, httpStatus: row.status)
        #expect(error.kind == row.kind)
        #expect(error.isTransient == row.transient)
        #expect(error.diagnosis.aadstsCode == row.aadsts)
        #expect(error.diagnosis.summary.lowercased().contains(row.summary), "\(error.diagnosis.summary)")
        #expect(error.diagnosis.fix.lowercased().contains(row.fix), "\(error.diagnosis.fix)")
        #expect(error.errorCode == row.error)
        #expect(error.errorDescription == row.errorDescription)
        // The provider's words are kept verbatim in the line.
        if let description = row.errorDescription {
            #expect(error.diagnosis.line.contains(description))
        }
        #expect(
            error.diagnosis
                == OAuthDiagnosis.diagnose(
                    style: row.style, errorCode: row.error, errorDescription: row.errorDescription,
                    httpStatus: row.status))
    }

    @Test("the line reads: summary; the provider said \"…\". fix")
    func line() {
        let diagnosis = OAuthDiagnosis.diagnose(
            style: .microsoft, errorCode: "invalid_grant",
            errorDescription: "AADSTS700082: The refresh token has expired.",
            httpStatus: 400)
        #expect(
            diagnosis.line
                == "the refresh token expired after a long time unused (inactivity); the provider said \"invalid_grant: "
                + "AADSTS700082: The refresh token has expired.\". reauthorize the mailbox (postdesk channel reauthorize "
                + "ADDRESS)")
        let bare = OAuthDiagnosis(summary: "s", fix: "f")
        #expect(bare.line == "s. f")
    }

    @Test(
        "a huge error_description is cut to 500 characters in the provider text, and AADSTS is read from its start only"
    )
    func hugeDescription() {
        let description = "AADSTS50173: " + String(repeating: "x", count: 60_000) + " AADSTS70000"
        let diagnosis = OAuthDiagnosis.diagnose(
            style: .microsoft, errorCode: "invalid_grant", errorDescription: description, httpStatus: 400)
        #expect(diagnosis.aadstsCode == 50173)
        #expect((diagnosis.providerText?.count ?? 0) <= 501)
        #expect(OAuthDiagnosis.aadstsCode(in: "invalid AADSTS50173") == nil)
        #expect(OAuthDiagnosis.aadstsCode(in: "AADSTS: none") == nil)
        #expect(OAuthDiagnosis.aadstsCode(in: "AADSTS99999999999999: too long") == nil)
    }
}
