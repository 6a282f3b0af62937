import Crypto
import Foundation
import GRDB

/// What `receive` did with a fetched mail, and so what the mailbox may do next.
public enum ReceiveOutcome: Sendable, Equatable {
    /// Stored now, byte for byte: hand it to the router, then flag or delete it in the mailbox.
    case stored(Int64)
    /// Stored before and still waiting to be processed (a re-fetch after a crash): hand it to the
    /// router again, then flag or delete it.
    case pending(Int64)
    /// Stored and processed before (a re-fetch, or the same mail delivered twice): flag or delete
    /// it only.
    case duplicate(Int64)

    /// The inbound row that holds the mail.
    public var inboundId: Int64 {
        switch self {
        case .stored(let id), .pending(let id), .duplicate(let id): id
        }
    }

    /// Whether the router should process the row.
    public var needsProcessing: Bool {
        switch self {
        case .stored, .pending: true
        case .duplicate: false
        }
    }
}

extension DeskStore {
    /// Stores a fetched mail durably before the mailbox is told anything (step 1 of the nothing-lost
    /// protocol, DESIGN.md §2): the raw bytes, the dedupe key (Message-ID plus the hash of what the
    /// sender wrote) and the log event, in one transaction. The same mail again is recognised; a
    /// second copy under another mailbox UID is logged as a duplicate of the first.
    public func receive(channelId: Int64, raw: [UInt8], mailboxUid: String?) async throws -> ReceiveOutcome {
        let fingerprint = InboundFingerprint(raw: raw)
        let data = Data(raw)
        return try await write { db in
            if let existing = try Self.storedCopy(of: fingerprint, raw: raw, channelId: channelId, in: db) {
                // The same mail under the same UID is a re-fetch after a crash, not a duplicate. A pushed copy
                // (LMTP, no UID) is always a second copy: it is logged under a key of its own.
                if mailboxUid == nil || existing.mailboxUid != mailboxUid {
                    try Self.insertMailboxEvent(
                        channelId: channelId, mailboxUid: mailboxUid ?? "push:\(UUID().uuidString)",
                        from: fingerprint.from,
                        subject: fingerprint.subject, outcome: .duplicate,
                        detail: "the same message (Message-ID and content) was already received; processed once",
                        inboundId: existing.id, in: db)
                }
                return existing.processed ? .duplicate(existing.id) : .pending(existing.id)
            }
            var mail = InboundMail(
                id: nil, channelId: channelId, dedupeKey: fingerprint.dedupeKey, messageId: fingerprint.messageID,
                raw: data, mailboxUid: mailboxUid, fetchedAt: Date(), processedAt: nil, fromAddress: fingerprint.from,
                subject: fingerprint.subject, outcome: nil, detail: nil, requestKey: nil, notes: nil,
                contentHash: fingerprint.contentHash)
            try mail.insert(db)
            guard let id = mail.id else { throw DeskError(.storage, "inbound row without id") }
            return .stored(id)
        }
    }

    /// The stored row holding the same mail, if any. Rows stored before content hashes were keyed on
    /// the Message-ID alone (or the SHA-256 of the bytes): such a row matches when its own bytes have
    /// the same fingerprint, so an upgrade never takes a mail twice.
    private static func storedCopy(
        of fingerprint: InboundFingerprint, raw: [UInt8], channelId: Int64, in db: Database
    ) throws -> (id: Int64, processed: Bool, mailboxUid: String?)? {
        func row(_ key: String) throws -> Row? {
            try Row.fetchOne(
                db,
                sql:
                    "SELECT id, processedAt, mailboxUid, raw, contentHash FROM inbound WHERE channelId = ? AND dedupeKey = ?",
                arguments: [channelId, key])
        }
        func match(_ row: Row) -> (id: Int64, processed: Bool, mailboxUid: String?) {
            (row["id"], (row["processedAt"] as Date?) != nil, row["mailboxUid"])
        }
        if let found = try row(fingerprint.dedupeKey) { return match(found) }
        if let legacyKey = fingerprint.legacyMessageIDKey, let found = try row(legacyKey),
            (found["contentHash"] as String?) == nil,
            InboundFingerprint(raw: [UInt8]((found["raw"] as Data?) ?? Data())).contentHash == fingerprint.contentHash
        {
            return match(found)
        }
        if fingerprint.messageID == nil,
            let found = try row("sha256:" + hexDigits(SHA256.hash(data: raw))),
            (found["contentHash"] as String?) == nil
        {
            return match(found)
        }
        return nil
    }

    /// Stored mails not processed yet, oldest first, after `afterId`.
    public func pendingInbound(after afterId: Int64 = 0, limit: Int) async throws -> [InboundMail] {
        try await read { db in
            try InboundMail.filter(InboundMail.Columns.processedAt == nil && Column("id") > afterId)
                .order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// One inbound mail by id.
    public func inbound(id: Int64) async throws -> InboundMail? {
        try await read { db in try InboundMail.fetchOne(db, key: id) }
    }
}
