import Foundation
import GRDB

/// A raw mail fetched from a mailbox, stored before the mailbox is told anything (the nothing-lost
/// protocol, DESIGN.md §2), then processed exactly once into an outcome.
public struct InboundMail: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord
{
    public static let databaseTableName = "inbound"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var channelId: Int64
    /// `InboundFingerprint.dedupeKey`: the Message-ID with the content hash; unique per channel.
    public var dedupeKey: String
    public var messageId: String?
    public var raw: Data
    /// IMAP UID or POP3 UIDL it was fetched under.
    public var mailboxUid: String?
    public var fetchedAt: Date
    public var processedAt: Date?
    public var fromAddress: String?
    public var subject: String?
    /// What became of it; nil while waiting to be processed.
    public var outcome: InboundOutcome?
    public var detail: String?
    public var requestKey: String?
    /// Parse notes (charset decisions, dropped parts), one per line.
    public var notes: String?
    /// How many times processing was started; a mail that keeps failing is quarantined.
    public var attempts: Int = 0
    /// SHA-256 of what the sender wrote (`InboundFingerprint.contentHash`); nil for rows stored
    /// before content hashes.
    public var contentHash: String?
    /// Released by an admin from the per-sender rate breaker: processed without it.
    public var rateExempt: Bool = false

    public enum Columns {
        static let processedAt = Column(CodingKeys.processedAt)
        static let outcome = Column(CodingKeys.outcome)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Read column by column rather than through Decodable: the router reads every row of every batch this way,
    /// and the keyed decoding container cost it several times the SQL (3 % of the drain's CPU). A value that does
    /// not convert (an unknown outcome) throws, as decoding would.
    public init(row: Row) throws {
        id = try row.decode(forColumn: "id")
        channelId = try row.decode(forColumn: "channelId")
        dedupeKey = try row.decode(forColumn: "dedupeKey")
        messageId = try row.decode(forColumn: "messageId")
        raw = try row.decode(forColumn: "raw")
        mailboxUid = try row.decode(forColumn: "mailboxUid")
        fetchedAt = try row.decode(forColumn: "fetchedAt")
        processedAt = try row.decode(forColumn: "processedAt")
        fromAddress = try row.decode(forColumn: "fromAddress")
        subject = try row.decode(forColumn: "subject")
        outcome = try row.decode(forColumn: "outcome")
        detail = try row.decode(forColumn: "detail")
        requestKey = try row.decode(forColumn: "requestKey")
        notes = try row.decode(forColumn: "notes")
        attempts = try row.decode(forColumn: "attempts")
        contentHash = try row.decode(forColumn: "contentHash")
        rateExempt = try row.decode(forColumn: "rateExempt")
    }
}

/// What became of one inbound mail.
public enum Disposition: Sendable, Equatable {
    /// A new request; the note says why a mail that named a request did not join it.
    case created(String, note: String? = nil)
    case commented(String)
    case ignored(String)
    /// Held by the per-sender rate breaker until an admin releases or drops it.
    case held(String)
    case failed(String)

    /// The outcome stored in the inbound log.
    public var outcome: InboundOutcome {
        switch self {
        case .created: .created
        case .commented: .commented
        case .ignored: .ignored
        case .held: .held
        case .failed: .failed
        }
    }

    /// The request key, when a request was created or commented.
    public var requestKey: String? {
        switch self {
        case .created(let key, _), .commented(let key): key
        case .ignored, .held, .failed: nil
        }
    }

    /// The reason, when ignored, held or failed; the note of a created request.
    public var detail: String? {
        switch self {
        case .ignored(let reason), .held(let reason), .failed(let reason): reason
        case .created(_, let note): note
        case .commented: nil
        }
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
