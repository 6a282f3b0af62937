import Foundation
import GRDB

/// A raw mail fetched from a mailbox, stored before the mailbox is told anything (the nothing-lost
/// protocol, DESIGN.md §2), then processed exactly once into an outcome.
public struct InboundMail: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "inbound"
    public var id: Int64?
    public var channelId: Int64
    /// `mid:<Message-ID>` or `sha256:<hex of the raw bytes>`; unique per channel.
    public var dedupeKey: String
    public var messageId: String?
    public var raw: Data
    /// IMAP UID or POP3 UIDL it was fetched under.
    public var mailboxUid: String?
    public var fetchedAt: Date
    public var processedAt: Date?
    public var fromAddress: String?
    public var subject: String?
    /// `created`, `commented`, `ignored` or `failed`; nil while waiting to be processed.
    public var outcome: String?
    public var detail: String?
    public var requestKey: String?
    /// Parse notes (charset decisions, dropped parts), one per line.
    public var notes: String?

    public enum Columns {
        static let processedAt = Column(CodingKeys.processedAt)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What became of one inbound mail.
public enum Disposition: Sendable, Equatable {
    case created(String)
    case commented(String)
    case ignored(String)
    case failed(String)

    /// The word stored in the inbound log.
    public var outcome: String {
        switch self {
        case .created: "created"
        case .commented: "commented"
        case .ignored: "ignored"
        case .failed: "failed"
        }
    }

    /// The request key, when a request was created or commented.
    public var requestKey: String? {
        switch self {
        case .created(let key), .commented(let key): key
        case .ignored, .failed: nil
        }
    }

    /// The reason, when ignored or failed.
    public var detail: String? {
        switch self {
        case .ignored(let reason), .failed(let reason): reason
        case .created, .commented: nil
        }
    }
}

/// What the router read from an inbound mail, handed to the store to decide and record in one
/// transaction.
public struct InboundIntake: Sendable {
    public var senderAddress: String
    public var senderName: String?
    public var subject: String?
    public var summary: String
    public var description: String
    /// The reply text with the quoted original stripped, used when the mail is a comment.
    public var commentText: String
    public var messageID: String?
    /// In-Reply-To then References, newest first.
    public var referencedMessageIDs: [String]
    /// The header that marks the mail as automatic (auto-reply, bounce, loop), with the reason.
    public var automatic: (header: String, reason: String)?
    /// Whether the customer directory admits the sender to the channel's project.
    public var admission: Admission
    /// Addresses in To and Cc besides the sender: they become participants of a new request when
    /// the project admits them, and receive its notifications.
    public var copied: [String]
    /// Attachments to keep with the request or comment.
    public var attachments: [IncomingAttachment]
    /// Parse notes for the processing log (charset decisions, dropped parts).
    public var notes: [String]
    /// The `X-Postdesk-Verify` token of a `channel verify` test email, if the mail carries one.
    public var verificationToken: String?

    public init(
        senderAddress: String,
        senderName: String?,
        subject: String?,
        summary: String,
        description: String,
        commentText: String,
        messageID: String?,
        referencedMessageIDs: [String],
        automatic: (header: String, reason: String)?,
        admission: Admission,
        copied: [String] = [],
        attachments: [IncomingAttachment] = [],
        notes: [String] = [],
        verificationToken: String? = nil
    ) {
        self.verificationToken = verificationToken
        self.copied = copied
        self.attachments = attachments
        self.notes = notes
        self.senderAddress = senderAddress
        self.senderName = senderName
        self.subject = subject
        self.summary = summary
        self.description = description
        self.commentText = commentText
        self.messageID = messageID
        self.referencedMessageIDs = referencedMessageIDs
        self.automatic = automatic
        self.admission = admission
    }
}

/// An attachment of an inbound mail, to be stored with the request.
public struct IncomingAttachment: Sendable {
    public var filename: String
    public var contentType: String
    public var isInline: Bool
    public var data: [UInt8]

    public init(filename: String, contentType: String, isInline: Bool, data: [UInt8]) {
        self.filename = filename
        self.contentType = contentType
        self.isInline = isInline
        self.data = data
    }
}
