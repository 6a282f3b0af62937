import ServiceDesk

/// What postdesk knows about a mail provider: its servers, and how often it may be polled.
public struct ProviderProfile: Sendable, Equatable {
    /// A server address with its TLS mode.
    public struct Server: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var tls: ServerTLS
    }

    public var name: String
    public var imap: Server?
    public var pop3: Server?
    public var smtp: Server?
    /// The shortest interval between two polls (or logins) this provider tolerates.
    public var minimumPollInterval: Duration
    /// The identity provider whose OAuth 2.0 grants log in to this provider's mailboxes, if any.
    public var oauthProvider: OAuthProvider? = nil

    /// Gmail: IMAP recommended (POP3 also serves archived mail).
    public static let gmail = ProviderProfile(
        name: "gmail",
        imap: Server(host: "imap.gmail.com", port: 993, tls: .implicit),
        pop3: Server(host: "pop.gmail.com", port: 995, tls: .implicit),
        smtp: Server(host: "smtp.gmail.com", port: 587, tls: .starttls),
        minimumPollInterval: .seconds(60), oauthProvider: .google)

    /// Yahoo Mail.
    public static let yahoo = ProviderProfile(
        name: "yahoo",
        imap: Server(host: "imap.mail.yahoo.com", port: 993, tls: .implicit),
        pop3: Server(host: "pop.mail.yahoo.com", port: 995, tls: .implicit),
        smtp: Server(host: "smtp.mail.yahoo.com", port: 465, tls: .implicit),
        minimumPollInterval: .seconds(60))

    /// Outlook.com and Microsoft 365: POP3 logins are limited per 15 minutes, so polling is slower.
    public static let outlook = ProviderProfile(
        name: "outlook",
        imap: Server(host: "outlook.office365.com", port: 993, tls: .implicit),
        pop3: Server(host: "outlook.office365.com", port: 995, tls: .implicit),
        smtp: Server(host: "smtp.office365.com", port: 587, tls: .starttls),
        minimumPollInterval: .seconds(120), oauthProvider: .microsoft)

    /// Any other server: host, port and TLS must be given.
    public static let custom = ProviderProfile(
        name: "custom", imap: nil, pop3: nil, smtp: nil, minimumPollInterval: .seconds(0))

    /// The profile of a login: the provider it was linked as, else the one its host belongs to.
    public static func of(_ provider: MailProvider, host: String) -> ProviderProfile {
        provider == .custom ? matching(host: host) : of(provider)
    }

    /// What `channel add`, `channel test` and `smtp set` advise for a login at this provider that does not hold an
    /// OAuth 2.0 grant: Microsoft has turned off basic authentication for IMAP and POP in Exchange Online, and Google
    /// no longer lets new Workspace users create app passwords. Nil where OAuth is not the better way, or is used.
    public func oauthAdvice(for method: AuthMethod) -> String? {
        guard method != .oauth2App, let oauthProvider else { return nil }
        let vendor = oauthProvider == .microsoft ? "Microsoft 365" : "Gmail and Google Workspace"
        return
            "\(vendor) accounts are best linked with OAuth 2.0: register your app once (postdesk oauth app add NAME --provider \(oauthProvider.rawValue) --client-id ID), then sign in with --oauth-app NAME (channel reauthorize switches a linked mailbox without unlinking it). Passwords and app passwords keep working only for accounts that still allow them."
    }

    /// The profile of a provider.
    public static func of(_ provider: MailProvider) -> ProviderProfile {
        switch provider {
        case .gmail: .gmail
        case .yahoo: .yahoo
        case .outlook: .outlook
        case .custom: .custom
        }
    }

    /// The profile a server host belongs to, for diagnosis and backoff of channels linked as custom.
    public static func matching(host: String) -> ProviderProfile {
        let host = host.lowercased()
        if host.hasSuffix("gmail.com") || host.hasSuffix("googlemail.com") { return .gmail }
        if host.hasSuffix("yahoo.com") { return .yahoo }
        if host.hasSuffix("office365.com") || host.hasSuffix("outlook.com") || host.hasSuffix("hotmail.com") {
            return .outlook
        }
        return .custom
    }

    /// The mailbox server for a protocol, when the provider has one.
    public func server(for mailProtocol: MailboxProtocol) -> Server? {
        switch mailProtocol {
        case .imap: imap
        case .pop3: pop3
        case .lmtp: nil
        }
    }
}

extension ProviderProfile {
    /// What postdesk knows about an OAuth 2.0 identity provider: the endpoints an app registered
    /// with it uses, and the scopes that let it read and send mail.
    public struct OAuth: Sendable, Equatable {
        /// The tenant the endpoints name (Microsoft only).
        public var tenant: String?
        /// Authorization endpoint (RFC 6749 §3.1), for the browser flow.
        public var authorizationURL: String
        /// Token endpoint (RFC 6749 §3.2).
        public var tokenURL: String
        /// Device authorization endpoint (RFC 8628 §3.1).
        public var deviceAuthorizationURL: String
        /// IMAP, POP3 and SMTP access, and a refresh token.
        public var scopes: [String]
    }

    /// The Microsoft tenant an app is registered in when the admin names none: any work or school
    /// account (not personal Outlook.com accounts).
    public static let defaultMicrosoftTenant = "organizations"

    /// The preset of an identity provider, or nil for `custom`, whose endpoints the admin gives.
    /// `tenant` is Microsoft's (a tenant id, a verified domain, `organizations`, `common` or
    /// `consumers`); Google has none.
    public static func oauth(_ provider: OAuthProvider, tenant: String?) throws -> OAuth? {
        switch provider {
        case .microsoft:
            let tenant = tenant ?? defaultMicrosoftTenant
            // The tenant becomes a path segment of every endpoint: a GUID or a domain name, nothing else.
            guard (1...253).contains(tenant.utf8.count),
                tenant.unicodeScalars.allSatisfy({
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "."
                        || $0 == "-"
                })
            else {
                throw DeskError(
                    .invalid,
                    "tenant \"\(tenant)\" is not valid: give the directory (tenant) id, a verified domain such as contoso.onmicrosoft.com, or organizations"
                )
            }
            // https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code
            let base = "https://login.microsoftonline.com/\(tenant)/oauth2/v2.0"
            return OAuth(
                tenant: tenant, authorizationURL: base + "/authorize", tokenURL: base + "/token",
                deviceAuthorizationURL: base + "/devicecode",
                scopes: [
                    "https://outlook.office.com/IMAP.AccessAsUser.All",
                    "https://outlook.office.com/POP.AccessAsUser.All",
                    "https://outlook.office.com/SMTP.Send",
                    "offline_access",
                ])
        case .google:
            guard tenant == nil else {
                throw DeskError(.invalid, "--tenant is for --provider microsoft; a Google app has no tenant")
            }
            // https://developers.google.com/identity/protocols/oauth2/limited-input-device
            return OAuth(
                tenant: nil, authorizationURL: "https://accounts.google.com/o/oauth2/v2/auth",
                tokenURL: "https://oauth2.googleapis.com/token",
                deviceAuthorizationURL: "https://oauth2.googleapis.com/device/code",
                scopes: ["https://mail.google.com/"])
        case .custom:
            return nil
        }
    }
}
