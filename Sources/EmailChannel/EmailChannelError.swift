/// The one error type of EmailChannel's own failures (mail protocol failures are `MailClientError`,
/// the desk's are `DeskError`): what went wrong, in one line for the admin, with the cause.
public struct EmailChannelError: Error, Sendable, CustomStringConvertible {
    /// A closed set of reasons; each decides how a mailbox reacts.
    public enum Code: String, Sendable, Codable {
        /// A login credential cannot be had now (token file unreadable, token command failed or
        /// timed out): shown as needs-attention, retried with backoff.
        case credentialUnavailable
        /// The provider refused the OAuth 2.0 grant (revoked, password changed, expired): needs-attention, not
        /// retried until the grant is replaced (`channel reauthorize`).
        case grantRefused
        /// The store refused a write (disk full, database locked): transient, retried with backoff.
        case storage
    }

    public var code: Code
    /// One line for the admin, never containing a secret or a message body.
    public var message: String
    /// What caused it, if anything.
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, underlying: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        guard let underlying else { return message }
        return "\(message): \(underlying)"
    }
}
