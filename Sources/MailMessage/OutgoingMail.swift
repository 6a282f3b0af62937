import Foundation

/// A mail for `MailComposer` to turn into RFC 5322 bytes: plain text, or text with an HTML alternative.
public struct OutgoingMail: Sendable {
    /// The From mailbox.
    public var from: MailAddress
    /// To recipients.
    public var to: [MailAddress]
    /// Cc recipients.
    public var cc: [MailAddress]
    /// Reply-To mailboxes.
    public var replyTo: [MailAddress]
    /// The subject (any Unicode; encoded as needed).
    public var subject: String
    /// The body text (any line ends; sent as quoted-printable UTF-8 with CRLF).
    public var text: String
    /// The same content as HTML, sent after the text as the preferred alternative (RFC 2046 §5.1.4); nil: text only.
    public var html: String?
    /// The Message-ID without angle brackets.
    public var messageID: String
    /// The msg-id this mail answers, without angle brackets.
    public var inReplyTo: String?
    /// The thread's msg-ids without angle brackets, oldest first.
    public var references: [String]
    /// The Date header value.
    public var date: Date
    /// More header fields, written after the standard ones (e.g. ("Auto-Submitted", "auto-generated")).
    public var extraHeaders: [(String, String)]

    /// Makes an outgoing mail; everything but the sender, recipients, subject, text and Message-ID has a default.
    public init(
        from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], replyTo: [MailAddress] = [], subject: String,
        text: String, html: String? = nil, messageID: String, inReplyTo: String? = nil, references: [String] = [],
        date: Date = Date(), extraHeaders: [(String, String)] = []
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.extraHeaders = extraHeaders
    }
}
