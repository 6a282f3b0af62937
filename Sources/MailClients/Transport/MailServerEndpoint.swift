// MailClients owns the wire protocols postdesk speaks to mail servers: IMAP4rev1 (+IDLE), POP3 and
// SMTP submission, with TLS. It knows nothing of requests, projects or the database.

/// How a connection is secured: TLS from the first byte, upgraded with STARTTLS/STLS, or plain.
public enum TLSMode: String, Sendable, Hashable, Codable, CaseIterable {
    /// TLS from the first byte (IMAPS 993, POP3S 995, SMTPS 465).
    case implicit
    /// Plain connection upgraded with STARTTLS (IMAP, SMTP) or STLS (POP3); fails if not offered.
    case starttls
    /// No TLS at all (test servers on loopback only).
    case none
}

/// Where a mail server lives and how to reach it.
public struct MailServerEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var tls: TLSMode
    /// PEM file with extra trusted CA certificates (a private CA); `nil` trusts the system roots.
    public var caFile: String?
    public var connectTimeout: Duration
    /// Deadline for any single command's complete response.
    public var commandTimeout: Duration

    public init(
        host: String,
        port: Int,
        tls: TLSMode,
        caFile: String? = nil,
        connectTimeout: Duration = .seconds(15),
        commandTimeout: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.caFile = caFile
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }
}

/// A user name and password; its description never shows the password.
public struct MailCredentials: Sendable, Hashable, CustomStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "MailCredentials(username: \(username), password: <redacted>)" }
}
