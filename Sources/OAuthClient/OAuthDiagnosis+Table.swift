extension OAuthDiagnosis {
    /// The fix for a grant that is gone: only a new sign-in helps. The caller may name the address.
    static let reauthorize = "reauthorize the mailbox (postdesk channel reauthorize ADDRESS)"

    /// One row of a table: what happened and what to do.
    struct Entry: Sendable {
        var summary: String
        var fix: String
    }

    /// Reads a provider's RFC 6749 §5.2 error (or a redirect's §4.1.2.1 `error=`) into our words and a fix.
    /// Microsoft's `AADSTSnnnn` code at the start of `error_description` wins (whatever the style: Entra ID also
    /// sits behind custom endpoints); then Google's wording for `.google`; then the RFC's `error` code. Pure, and
    /// constant-time in the description's length apart from the copy of at most 500 characters.
    public static func diagnose(
        style: OAuthProviderStyle, errorCode: String?, errorDescription: String?, httpStatus: Int?
    ) -> OAuthDiagnosis {
        let code = aadstsCode(in: errorDescription)
        let text = providerText(errorCode: errorCode, errorDescription: errorDescription)
        let entry =
            code.flatMap { microsoft[$0] }
            ?? (style == .google ? google(errorCode: errorCode, errorDescription: errorDescription) : nil)
            ?? generic(errorCode: errorCode, httpStatus: httpStatus)
        return OAuthDiagnosis(aadstsCode: code, summary: entry.summary, fix: entry.fix, providerText: text)
    }

    /// Microsoft Entra ID's codes (learn.microsoft.com/entra/identity-platform/reference-error-codes).
    static let microsoft: [Int: Entry] = [
        50076: Entry(
            summary: "Microsoft requires multi-factor authentication for this sign-in",
            fix: "\(reauthorize) and complete the MFA prompt in the browser"),
        50079: Entry(
            summary: "Microsoft requires the user to register for multi-factor authentication",
            fix: "have the user set up MFA, then \(reauthorize)"),
        65001: Entry(
            summary: "the app has no consent for these permissions in the tenant",
            fix:
                "have a tenant admin grant admin consent for the app (Entra admin center → Enterprise applications "
                + "→ the app → Permissions), then \(reauthorize)"),
        700082: Entry(
            summary: "the refresh token expired after a long time unused (inactivity)",
            fix: reauthorize),
        50173: Entry(
            summary: "the grant was revoked because the user's password was changed or reset",
            fix: reauthorize),
        53003: Entry(
            summary: "a Conditional Access policy of the tenant blocked the sign-in",
            fix: "ask the tenant admin to allow this app (or this server's location) in Conditional Access, then "
                + reauthorize),
        90072: Entry(
            summary: "the account is not in the app's tenant",
            fix: "use the tenant the account belongs to in the endpoint addresses (or `organizations`), or invite "
                + "the user into the app's tenant, then \(reauthorize)"),
        70000: Entry(
            summary: "the grant was revoked (by the user or an admin), or the app lost its permissions",
            fix: reauthorize),
        9_002_313: Entry(
            summary: "the refresh token is unknown or was already replaced by a newer one",
            fix: "\(reauthorize); if another copy of postdesk uses the same mailbox, keep only one"),
        700016: Entry(
            summary: "no app with this client id in the tenant (wrong client id or wrong tenant)",
            fix: "check the Application (client) ID and the tenant in the endpoint addresses"),
        7_000_218: Entry(
            summary: "the app registration expects a client secret and none was sent",
            fix: "set the app's client secret, or enable \"Allow public client flows\" in the app registration"),
        7_000_215: Entry(
            summary: "the client secret is wrong or expired (the secret's ID may have been given instead of its value)",
            fix: "create a new client secret in the app registration and set its Value"),
        700025: Entry(
            summary: "the app registration is a public client and must not get a secret",
            fix: "remove the client secret from the postdesk app registration"),
        70011: Entry(
            summary: "a requested scope is not valid for this app",
            fix: "check the scopes (for Exchange Online: https://outlook.office.com/IMAP.AccessAsUser.All "
                + "https://outlook.office.com/SMTP.Send offline_access)"),
        65004: Entry(
            summary: "the user declined to give the app access",
            fix: "run the authorization again and accept the permissions"),
        70019: Entry(
            summary: "the device code expired before the sign-in was finished",
            fix: "start the authorization again and finish the sign-in within the time shown"),
        54005: Entry(
            summary: "the authorization code was already redeemed",
            fix: "start the authorization again"),
        501481: Entry(
            summary: "the PKCE code verifier did not match the challenge of the authorization request",
            fix: "start the authorization again (in the same postdesk command)"),
    ]

    /// Google's wording (developers.google.com/identity/protocols/oauth2): its short descriptions say little, so
    /// the summary lists what the error can mean.
    static func google(errorCode: String?, errorDescription: String?) -> Entry? {
        switch errorCode {
        case "invalid_grant" where errorDescription?.hasPrefix("Token has been expired or revoked") == true:
            Entry(
                summary:
                    "Google says the refresh token has expired or was revoked: the user removed the app's access, "
                    + "the password was changed, the app is in \"Testing\" publishing status (its tokens end after "
                    + "7 days), or the token went unused for 6 months",
                fix: "\(reauthorize); for an app in \"Testing\", publish it (OAuth consent screen → In production)")
        case "admin_policy_enforced":
            Entry(
                summary: "a Google Workspace admin policy does not allow this app for the account",
                fix: "ask the Workspace admin to trust the app (Admin console → Security → API controls), then "
                    + reauthorize)
        case "org_internal":
            Entry(
                summary: "the app is \"Internal\" to another Google Workspace organization than the account's",
                fix: "sign in with an account of that organization, or make the app's user type External")
        case "invalid_client", "deleted_client":
            Entry(
                summary: "Google does not accept the client id or secret (wrong, or the OAuth client was deleted)",
                fix: "check the client ID and secret under Google Cloud console → APIs & Services → Credentials")
        case "access_denied":
            Entry(
                summary: "the user declined, or the app is in \"Testing\" and the account is not one of its test users",
                fix: "run the authorization again and allow access; for an app in \"Testing\", add the account as a "
                    + "test user")
        default:
            nil
        }
    }

    /// What the RFC 6749 §5.2 / RFC 8628 §3.5 code alone says.
    static func generic(errorCode: String?, httpStatus: Int?) -> Entry {
        if let httpStatus, httpStatus >= 500 || httpStatus == 429 {
            return Entry(
                summary: "the provider had a temporary problem (HTTP \(httpStatus))",
                fix: "nothing to do; postdesk tries again later")
        }
        switch errorCode {
        case "invalid_grant", "bad_verification_code":
            return Entry(summary: "the grant is no longer valid (revoked, expired or already used)", fix: reauthorize)
        case "access_denied", "authorization_declined", "consent_required", "interaction_required":
            return Entry(
                summary: "access was declined", fix: "run the authorization again and allow access")
        case "admin_policy_enforced", "org_internal":
            return Entry(
                summary: "an organization policy does not allow this app for the account",
                fix: "ask the organization's admin to allow the app, then \(reauthorize)")
        case "expired_token", "code_expired":
            return Entry(
                summary: "the sign-in was not finished in time", fix: "start the authorization again")
        case "invalid_client", "deleted_client":
            return Entry(
                summary: "the provider does not accept the client id or secret",
                fix: "check the app registration's client id and secret")
        case "invalid_scope":
            return Entry(
                summary: "a requested scope is not valid for this app", fix: "check the scopes of the app registration")
        case "unauthorized_client":
            return Entry(
                summary: "the app may not use this flow",
                fix: "enable the flow (device code or authorization code) in the app registration")
        case "unsupported_grant_type":
            return Entry(
                summary: "the provider does not support this grant type",
                fix: "check the token endpoint address and that the provider offers this flow")
        case "server_error", "temporarily_unavailable":
            return Entry(
                summary: "the provider had a temporary problem", fix: "nothing to do; postdesk tries again later")
        case "invalid_request":
            return Entry(
                summary: "the provider refused the request as malformed",
                fix: "check the endpoint addresses and the app registration's settings")
        default:
            return Entry(
                summary:
                    "the provider refused the request (\(errorCode.map { String($0.prefix(60)) } ?? "no error code"))",
                fix: "check the app registration against the provider's words")
        }
    }
}
