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

/// A user name and a secret (a password, or an OAuth 2.0 access token for SASL OAUTHBEARER or XOAUTH2); its
/// description never shows the secret.
public struct MailCredentials: Sendable, Hashable, CustomStringConvertible {
    /// What proves the user's identity.
    public enum Secret: Sendable, Hashable {
        /// A password (or app password): AUTH PLAIN, LOGIN, USER/PASS.
        case password(String)
        /// An OAuth 2.0 access token (Google, Microsoft, any RFC 7628 server), sent with SASL OAUTHBEARER or
        /// XOAUTH2 as `mechanism` says (by default OAUTHBEARER when the server offers it, else XOAUTH2).
        case oauth2AccessToken(String, mechanism: OAuthMechanism = .automatic)
    }

    public var username: String
    public var secret: Secret

    /// A user name and password.
    public init(username: String, password: String) {
        self.username = username
        self.secret = .password(password)
    }

    /// A user name and any secret.
    public init(username: String, secret: Secret) {
        self.username = username
        self.secret = secret
    }

    /// A user name and an OAuth 2.0 access token, sent with `mechanism`: by default SASL OAUTHBEARER (RFC 7628)
    /// when the server offers it, else XOAUTH2; a forced mechanism the server does not offer is
    /// `.authenticationMechanismUnsupported`.
    public static func oauth2(
        username: String, accessToken: String, mechanism: OAuthMechanism = .automatic
    ) -> MailCredentials {
        MailCredentials(username: username, secret: .oauth2AccessToken(accessToken, mechanism: mechanism))
    }

    /// The password; empty when the secret is an access token. Setting it makes the secret a password.
    public var password: String {
        get {
            if case .password(let password) = secret { return password }
            return ""
        }
        set { secret = .password(newValue) }
    }

    /// The OAuth 2.0 access token, when the secret is one.
    public var oauth2AccessToken: String? {
        if case .oauth2AccessToken(let token, _) = secret { return token }
        return nil
    }

    /// The SASL mechanism asked for the OAuth 2.0 access token, when the secret is one.
    public var oauthMechanism: OAuthMechanism? {
        if case .oauth2AccessToken(_, let mechanism) = secret { return mechanism }
        return nil
    }

    public var description: String {
        switch secret {
        case .password: "MailCredentials(username: \(username), password: <redacted>)"
        case .oauth2AccessToken: "MailCredentials(username: \(username), oauth2AccessToken: <redacted>)"
        }
    }
}
