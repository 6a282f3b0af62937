/// One message the client handed over, with its envelope: what the owner of the server stores.
public struct LMTPDelivery: Sendable, Equatable {
    /// The MAIL FROM reverse-path without angle brackets; empty for the null path `<>` (a bounce, RFC 5321 §4.5.5).
    public var reversePath: String
    /// The recipients the owner accepted, in RCPT order; one reply is owed for each (RFC 2033 §4.2).
    public var recipients: [String]
    /// The declared body type.
    public var body: LMTPBodyType
    /// The message with dot-stuffing removed (RFC 5321 §4.5.2), CRLF line ends, without the final `.` line.
    public var message: [UInt8]

    /// A delivery.
    public init(reversePath: String, recipients: [String], body: LMTPBodyType, message: [UInt8]) {
        self.reversePath = reversePath
        self.recipients = recipients
        self.body = body
        self.message = message
    }
}
