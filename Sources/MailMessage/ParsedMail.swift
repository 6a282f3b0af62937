import Foundation

/// A received message, parsed: addresses, threading headers, the best body text and the attachments.
///
/// Built by `MailParser.parse(_:)`, which never fails: whatever could not be read is described in `notes`.
public struct ParsedMail: Sendable {
    /// The top-level header fields.
    public var headers: MailHeaders
    /// From (RFC 5322 §3.6.2): usually one mailbox.
    public var from: [MailAddress]
    /// Sender (RFC 5322 §3.6.2), when present.
    public var sender: MailAddress?
    /// Reply-To (RFC 5322 §3.6.2).
    public var replyTo: [MailAddress]
    /// To (RFC 5322 §3.6.3), all To fields together.
    public var to: [MailAddress]
    /// Cc (RFC 5322 §3.6.3), all Cc fields together.
    public var cc: [MailAddress]
    /// The subject, RFC 2047 decoded; nil when the header is missing.
    public var subject: String?
    /// The Message-ID (RFC 5322 §3.6.4) without angle brackets.
    public var messageID: String?
    /// In-Reply-To msg-ids without angle brackets.
    public var inReplyTo: [String]
    /// References msg-ids without angle brackets, oldest first.
    public var references: [String]
    /// The Date header (RFC 5322 §3.3), when it could be read.
    public var date: Date?
    /// The Return-Path (RFC 5321 §4.4) address; "" for the null path "<>"; nil when absent.
    public var returnPath: String?
    /// The best body text: text/plain preferred, else HTML made readable; LF line ends, trimmed.
    public var text: String
    /// The reply part of the body, for comments: HTML quote containers (Gmail, Apple Mail, Outlook) removed, then
    /// `QuoteStripper` applied. Empty when the mail holds nothing but quoted text.
    public var replyText: String
    /// Attachments and inline parts, in message order.
    public var attachments: [MailAttachment]
    /// Decisions and problems for the processing log: charsets guessed, malformed parts, dropped parts.
    public var notes: [String]

    /// Makes a parsed mail from its parts (for tests and for building mail by hand).
    public init(
        headers: MailHeaders = MailHeaders(), from: [MailAddress] = [], sender: MailAddress? = nil,
        replyTo: [MailAddress] = [], to: [MailAddress] = [], cc: [MailAddress] = [], subject: String? = nil,
        messageID: String? = nil, inReplyTo: [String] = [], references: [String] = [], date: Date? = nil,
        returnPath: String? = nil, text: String = "", replyText: String = "", attachments: [MailAttachment] = [],
        notes: [String] = []
    ) {
        self.headers = headers
        self.from = from
        self.sender = sender
        self.replyTo = replyTo
        self.to = to
        self.cc = cc
        self.subject = subject
        self.messageID = messageID
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
        self.returnPath = returnPath
        self.text = text
        self.replyText = replyText
        self.attachments = attachments
        self.notes = notes
    }
}
