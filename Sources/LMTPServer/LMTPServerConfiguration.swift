import NIOCore

/// The limits and names of an LMTP listener.
public struct LMTPServerConfiguration: Sendable {
    /// The name in the greeting and the LHLO reply.
    public var hostname: String
    /// Largest message taken, in bytes after dot-unstuffing; announced as SIZE (RFC 1870).
    public var maximumMessageSize: Int
    /// Most recipients in one transaction (RFC 5321 §4.5.3.1.8 asks for at least 100).
    public var maximumRecipients: Int
    /// Longest command line including CRLF (RFC 5321 §4.5.3.1.4: 512, plus room for the SIZE and BODY parameters).
    public var maximumCommandLength: Int
    /// Refused commands in one session before it is closed with 421.
    public var maximumErrors: Int
    /// A client silent this long is sent 421 and disconnected (RFC 5321 §4.5.3.2.7: 5 minutes).
    public var idleTimeout: TimeAmount
    /// Connections served at once; more are answered 421 and closed.
    public var maximumConnections: Int

    /// A configuration; the defaults follow RFC 5321 §4.5.3.
    public init(
        hostname: String = "localhost", maximumMessageSize: Int, maximumRecipients: Int = 1000,
        maximumCommandLength: Int = 1024, maximumErrors: Int = 20, idleTimeout: TimeAmount = .minutes(5),
        maximumConnections: Int = 256
    ) {
        self.hostname = hostname
        self.maximumMessageSize = maximumMessageSize
        self.maximumRecipients = maximumRecipients
        self.maximumCommandLength = maximumCommandLength
        self.maximumErrors = maximumErrors
        self.idleTimeout = idleTimeout
        self.maximumConnections = maximumConnections
    }

    var limits: LMTPServerStateMachine.Limits {
        .init(
            hostname: hostname, maximumMessageSize: maximumMessageSize, maximumRecipients: maximumRecipients,
            maximumErrors: maximumErrors)
    }
}
