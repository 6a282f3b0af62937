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

    /// Gmail: IMAP recommended (POP3 also serves archived mail).
    public static let gmail = ProviderProfile(
        name: "gmail",
        imap: Server(host: "imap.gmail.com", port: 993, tls: .implicit),
        pop3: Server(host: "pop.gmail.com", port: 995, tls: .implicit),
        smtp: Server(host: "smtp.gmail.com", port: 587, tls: .starttls),
        minimumPollInterval: .seconds(60))

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
        minimumPollInterval: .seconds(120))

    /// Any other server: host, port and TLS must be given.
    public static let custom = ProviderProfile(
        name: "custom", imap: nil, pop3: nil, smtp: nil, minimumPollInterval: .seconds(0))

    /// The known providers by name.
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
