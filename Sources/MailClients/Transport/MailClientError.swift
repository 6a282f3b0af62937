/// The one error type of MailClients: an opaque code, our message, and the server's own words.
public struct MailClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a closed but extensible set.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Value: String, Hashable, Sendable {
            case dnsFailure, connectionRefused, connectionClosed, timeout
            case tlsHandshakeFailed, tlsCertificateUntrusted, tlsHostnameMismatch, starttlsNotOffered
            case authenticationFailed, authenticationMechanismUnsupported
            case commandRejected, protocolViolation, responseTooLarge
        }
        fileprivate let value: Value
        /// Host name did not resolve.
        public static let dnsFailure = Code(value: .dnsFailure)
        /// Nothing listens at host:port.
        public static let connectionRefused = Code(value: .connectionRefused)
        /// The server closed the connection unexpectedly.
        public static let connectionClosed = Code(value: .connectionClosed)
        /// No complete answer within the deadline.
        public static let timeout = Code(value: .timeout)
        /// TLS failed for a reason other than the certificate.
        public static let tlsHandshakeFailed = Code(value: .tlsHandshakeFailed)
        /// The certificate chain is not trusted (self-signed, unknown CA, expired).
        public static let tlsCertificateUntrusted = Code(value: .tlsCertificateUntrusted)
        /// The certificate does not name the host we connected to.
        public static let tlsHostnameMismatch = Code(value: .tlsHostnameMismatch)
        /// `--tls starttls` was asked for but the server does not offer it.
        public static let starttlsNotOffered = Code(value: .starttlsNotOffered)
        /// The server refused the credentials.
        public static let authenticationFailed = Code(value: .authenticationFailed)
        /// No authentication mechanism we speak is offered.
        public static let authenticationMechanismUnsupported = Code(value: .authenticationMechanismUnsupported)
        /// The server answered NO/BAD/-ERR/4xx/5xx to a command.
        public static let commandRejected = Code(value: .commandRejected)
        /// The server said something the protocol does not allow.
        public static let protocolViolation = Code(value: .protocolViolation)
        /// A line or literal exceeded our hard limits.
        public static let responseTooLarge = Code(value: .responseTooLarge)

        public var description: String { value.rawValue }
    }

    public var code: Code
    /// Our explanation, never containing passwords, tokens or message bodies.
    public var message: String
    /// The server's own words, verbatim, when it said something.
    public var serverText: String?
    /// Reply code when the protocol has one (SMTP 3-digit code).
    public var replyCode: Int?
    /// The server's OAuth 2.0 error, decoded from the JSON challenge of a refused OAUTHBEARER or XOAUTH2 login
    /// (RFC 7628 §3.2.2); `nil` when there was none or it was not that JSON (`serverText` still has its text).
    public var oauthFailure: OAuthBearerFailure?
    public var underlying: (any Error & Sendable)?
    public var file: String
    public var line: Int

    public init(
        _ code: Code,
        _ message: String,
        serverText: String? = nil,
        replyCode: Int? = nil,
        oauthFailure: OAuthBearerFailure? = nil,
        underlying: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.serverText = serverText
        self.replyCode = replyCode
        self.oauthFailure = oauthFailure
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let serverText { text += " (server said: \(serverText))" }
        return text
    }
}
