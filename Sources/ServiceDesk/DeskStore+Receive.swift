import Crypto
import Foundation

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

/// A mail as a mailbox fetched it, handed to `receive`: its bytes, and the IMAP UID or POP3 UIDL it was
/// fetched under (nil when it came another way, e.g. LMTP).
public struct FetchedMail: Sendable, Equatable {
    public var raw: [UInt8]
    public var mailboxUid: String?

    public init(raw: [UInt8], mailboxUid: String?) {
        self.raw = raw
        self.mailboxUid = mailboxUid
    }
}

extension DeskStore {
    /// Stores a fetched mail durably before the mailbox is told anything (step 1 of the nothing-lost
    /// protocol, DESIGN.md §2): the raw bytes, the dedupe key (Message-ID plus the hash of what the
    /// sender wrote) and the log event, in one transaction. The same mail again is recognised; a
    /// second copy under another mailbox UID is logged as a duplicate of the first.
    public func receive(channelId: Int64, raw: [UInt8], mailboxUid: String?) async throws -> ReceiveOutcome {
        let outcomes = try await receive(
            channelId: channelId, messages: [FetchedMail(raw: raw, mailboxUid: mailboxUid)])
        guard let outcome = outcomes.first else { throw DeskError(.storage, "receive answered nothing") }
        return outcome
    }

    /// Moves an IMAP channel's watermark to a new UIDVALIDITY (RFC 3501 §2.3.1.1): once a session has chosen the
    /// renumbered mailbox's mail by arrival date and stored all of it, later sessions take UID ≥ `uidNext` under
    /// `uidValidity` again, and log mail read elsewhere above it. Fenced as fetched mail is: only the mailbox's lease
    /// holder moves it. False when the channel had that UIDVALIDITY already (nothing to move).
    @discardableResult
    public func moveWatermark(channelId: Int64, uidValidity: UInt32, uidNext: UInt32) async throws -> Bool {
        let fence = intakeFence
        return try await write { db in
            try fence?.check(channelId: channelId, in: db)
            return try db.execute(
                sql: """
                    UPDATE channel SET uidValidity = ?, uidNextAtLink = ?
                    WHERE id = ? AND (uidValidity IS NULL OR uidValidity <> ?)
                    """,
                arguments: [Int64(uidValidity), Int64(uidNext), channelId, Int64(uidValidity)]) > 0
        }
    }

    /// Stores a batch of fetched mails in one transaction, each exactly as `receive(channelId:raw:mailboxUid:)`
    /// stores it alone, in order: a mail that comes twice in the batch is stored once (the second answers
    /// `pending`, and is logged as a duplicate when it came under another UID). One commit, one fsync, for the
    /// batch; nothing is stored when the transaction fails, so the mailbox flags nothing.
    public func receive(channelId: Int64, messages: [FetchedMail]) async throws -> [ReceiveOutcome] {
        guard !messages.isEmpty else { return [] }
        // Hashing reads every byte: done before the write, off the writer.
        let prepared = messages.map { (mail: $0, fingerprint: InboundFingerprint(raw: $0.raw)) }
        // Mail fetched from a mailbox (it has a UID) is stored only by the mailbox's lease holder; pushed mail (LMTP)
        // is taken by whichever node the MTA reached.
        let fence = messages.contains { $0.mailboxUid != nil } ? intakeFence : nil
        return try await write { db in
            try fence?.check(channelId: channelId, in: db)
            let now = Date()
            return try prepared.map { item in
                try Self.receiveOne(
                    item.mail, fingerprint: item.fingerprint, channelId: channelId, fetchedAt: now, in: db)
            }
        }
    }

    private static func receiveOne(
        _ mail: FetchedMail, fingerprint: InboundFingerprint, channelId: Int64, fetchedAt: Date, in db: any SQLSession
    ) throws -> ReceiveOutcome {
        if let existing = try storedCopy(of: fingerprint, raw: mail.raw, channelId: channelId, in: db) {
            // The same mail under the same UID is a re-fetch after a crash, not a duplicate. A pushed copy
            // (LMTP, no UID) is always a second copy: it is logged under a key of its own.
            if mail.mailboxUid == nil || existing.mailboxUid != mail.mailboxUid {
                try insertMailboxEvent(
                    channelId: channelId, mailboxUid: mail.mailboxUid ?? "push:\(UUID().uuidString)",
                    from: fingerprint.from,
                    subject: fingerprint.subject, outcome: .duplicate,
                    detail: "the same message (Message-ID and content) was already received; processed once",
                    inboundId: existing.id, in: db)
            }
            return existing.processed ? .duplicate(existing.id) : .pending(existing.id)
        }
        let id = try db.insertReturningId(
            sql: """
                INSERT INTO inbound (channelId, dedupeKey, messageId, raw, mailboxUid, fetchedAt, fromAddress, subject,
                                     contentHash, attempts, rateExempt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)
                """,
            arguments: [
                channelId, fingerprint.dedupeKey, fingerprint.messageID, Data(mail.raw), mail.mailboxUid, fetchedAt,
                fingerprint.from, fingerprint.subject, fingerprint.contentHash,
            ])
        return .stored(id)
    }

    /// The stored row holding the same mail, if any. Rows stored before content hashes were keyed on
    /// the Message-ID alone (or the SHA-256 of the bytes): such a row matches when its own bytes have
    /// the same fingerprint, so an upgrade never takes a mail twice.
    private static func storedCopy(
        of fingerprint: InboundFingerprint, raw: [UInt8], channelId: Int64, in db: any SQLSession
    ) throws -> (id: Int64, processed: Bool, mailboxUid: String?)? {
        // The bytes are read only for a legacy row, the one case that needs them.
        func row(_ key: String) throws -> SQLRow? {
            try SQLRow.fetchOne(
                db,
                sql: """
                    SELECT id, processedAt IS NOT NULL AS processed, mailboxUid, contentHash IS NULL AS legacy
                    FROM inbound WHERE channelId = ? AND dedupeKey = ?
                    """,
                arguments: [channelId, key])
        }
        func match(_ row: SQLRow) throws -> (id: Int64, processed: Bool, mailboxUid: String?) {
            (try row["id"], try row["processed"], try row["mailboxUid"])
        }
        if let found = try row(fingerprint.dedupeKey) { return try match(found) }
        if let legacyKey = fingerprint.legacyMessageIDKey, let found = try row(legacyKey),
            try found.decode(Bool.self, forColumn: "legacy")
        {
            let id: Int64 = try found["id"]
            let bytes =
                try Data.fetchOne(db, sql: "SELECT raw FROM inbound WHERE id = ?", arguments: [id])
                ?? Data()
            if InboundFingerprint(raw: [UInt8](bytes)).contentHash == fingerprint.contentHash {
                return try match(found)
            }
        }
        if fingerprint.messageID == nil,
            let found = try row("sha256:" + hexDigits(SHA256.hash(data: raw))),
            try found.decode(Bool.self, forColumn: "legacy")
        {
            return try match(found)
        }
        return nil
    }

    /// Stored mails not processed yet, oldest first, after `afterId`.
    public func pendingInbound(after afterId: Int64 = 0, limit: Int) async throws -> [InboundMail] {
        try await read { db in
            try InboundMail.fetchAll(
                db, sql: "SELECT * FROM inbound WHERE processedAt IS NULL AND id > ? ORDER BY id LIMIT ?",
                arguments: [afterId, limit])
        }
    }

    /// The ids of stored mails not processed yet, oldest first, after `afterId` (without reading their bytes).
    public func pendingInboundIds(after afterId: Int64 = 0, limit: Int) async throws -> [Int64] {
        try await read { db in
            try Int64.fetchAll(
                db, sql: "SELECT id FROM inbound WHERE processedAt IS NULL AND id > ? ORDER BY id LIMIT ?",
                arguments: [afterId, limit])
        }
    }

    /// One inbound mail by id.
    public func inbound(id: Int64) async throws -> InboundMail? {
        try await read { db in try InboundMail.fetchOne(db, id: id) }
    }
}
