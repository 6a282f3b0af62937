/// A mail domain that OpenSMTPD delivers by LMTP to a listener of the test's own (postdesk's `--lmtp-listen`)
/// instead of into Dovecot: its local `lmtp` action (not `relay`, which adds a queue round of 0.6 s).
public struct LMTPRoute: Sendable, Hashable {
    /// The domain whose every address goes to `destination`.
    public var domain: String
    /// `127.0.0.1:PORT`, or the path of a Unix socket.
    public var destination: String

    /// A route of `domain` to `destination`.
    public init(domain: String, destination: String) {
        self.domain = domain
        self.destination = destination
    }
}
