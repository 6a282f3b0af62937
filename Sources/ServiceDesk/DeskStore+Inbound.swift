import Crypto
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// Whether a fetched mail was new or already stored.
public enum InboundStoreResult: Sendable, Equatable {
    case stored(Int64)
    case duplicate(Int64)
}

extension DeskStore {
    /// The key that makes a re-fetched mail recognisable: its Message-ID, else a SHA-256 of its bytes.
    public static func dedupeKey(messageID: String?, raw: Data) -> String {
        if let messageID, !messageID.isEmpty { return "mid:" + messageID }
        let digest = SHA256.hash(data: raw)
        return "sha256:" + digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Stores a fetched mail durably before the mailbox is told anything (step 1 of the
    /// nothing-lost protocol). A mail stored before is recognised and not stored again.
    public func storeInbound(
        channelId: Int64, raw: Data, messageID: String?, mailboxUid: String?
    ) async throws -> InboundStoreResult {
        let key = Self.dedupeKey(messageID: messageID, raw: raw)
        return try await write { db in
            if let existing = try Int64.fetchOne(
                db, sql: "SELECT id FROM inbound WHERE channelId = ? AND dedupeKey = ?", arguments: [channelId, key])
            {
                return .duplicate(existing)
            }
            var mail = InboundMail(
                id: nil, channelId: channelId, dedupeKey: key, messageId: messageID, raw: raw, mailboxUid: mailboxUid,
                fetchedAt: Date(), processedAt: nil, fromAddress: nil, subject: nil, outcome: nil, detail: nil,
                requestKey: nil, notes: nil)
            try mail.insert(db)
            guard let id = mail.id else { throw DeskError(.storage, "inbound row without id") }
            return .stored(id)
        }
    }

    /// Stored mails not processed yet, oldest first.
    public func pendingInbound(limit: Int) async throws -> [InboundMail] {
        try await read { db in
            try InboundMail.filter(InboundMail.Columns.processedAt == nil).order(Column("id")).limit(limit).fetchAll(db)
        }
    }

    /// Records that an inbound mail could not be processed; it is kept with the reason.
    public func recordFailure(inboundId: Int64, reason: String) async throws {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE inbound SET processedAt = ?, outcome = 'failed', detail = ? WHERE id = ? AND processedAt IS NULL",
                arguments: [Date(), reason, inboundId])
        }
    }

    /// Decides what an inbound mail becomes and records it, all in one transaction: ignored
    /// (automatic, not a customer, our own address), a comment on the request it answers, or a
    /// new request. A mail already processed is left as it was.
    public func apply(_ intake: InboundIntake, toInbound inboundId: Int64) async throws -> Disposition {
        // Attachment files are content-addressed and written first: a crash before the transaction
        // leaves at most an unreferenced file, never a row without its bytes.
        let files = try intake.attachments.map { try saveAttachment($0) }
        return try await write { db in
            guard var inbound = try InboundMail.fetchOne(db, key: inboundId) else {
                throw DeskError.notFound("inbound mail \(inboundId) does not exist")
            }
            if inbound.processedAt != nil {
                return Self.storedDisposition(of: inbound)
            }
            let disposition = try Self.decide(intake, inbound: inbound, files: files, in: db)
            inbound.processedAt = Date()
            inbound.fromAddress = intake.senderAddress
            inbound.subject = intake.subject
            inbound.outcome = disposition.outcome
            inbound.detail = disposition.detail
            inbound.requestKey = disposition.requestKey
            inbound.notes = intake.notes.isEmpty ? nil : intake.notes.joined(separator: "\n")
            try inbound.update(db)
            return disposition
        }
    }

    static func storedDisposition(of inbound: InboundMail) -> Disposition {
        switch inbound.outcome {
        case "created": .created(inbound.requestKey ?? "")
        case "commented": .commented(inbound.requestKey ?? "")
        case "failed": .failed(inbound.detail ?? "")
        default: .ignored(inbound.detail ?? "")
        }
    }

    private static func decide(
        _ intake: InboundIntake, inbound: InboundMail, files: [SavedAttachment], in db: Database
    ) throws -> Disposition {
        guard let channel = try Channel.fetchOne(db, key: inbound.channelId),
            let project = try Project.fetchOne(db, key: channel.projectId), let projectId = project.id
        else {
            return .failed("the channel of this mail no longer exists")
        }
        // Our own `channel verify` test email: it comes from us, so it bypasses the loop and
        // customer checks, but only with a token this channel is waiting for.
        if let token = intake.verificationToken,
            let waiting = try Row.fetchOne(
                db, sql: "SELECT requestKey FROM verification WHERE token = ? AND channelId = ?",
                arguments: [token, inbound.channelId]),
            (waiting["requestKey"] as String?) == nil
        {
            let key = try createRequest(
                intake, reporter: intake.senderAddress.isEmpty ? channel.address : intake.senderAddress,
                project: project, channel: channel, inbound: inbound, files: files, in: db)
            try db.execute(
                sql: "UPDATE verification SET requestKey = ?, outcome = 'created' WHERE token = ?",
                arguments: [key, token])
            return .created(key)
        }
        if let automatic = intake.automatic {
            return .ignored("auto-reply: \(automatic.header) (\(automatic.reason))")
        }
        let sender = intake.senderAddress
        if sender.isEmpty {
            return .ignored("no sender address")
        }
        if try isChannelAddress(sender, in: db) {
            return .ignored("sent by a linked channel address (mail loop)")
        }
        switch intake.admission {
        case .admitted:
            break
        case .notCustomer:
            return .ignored(
                "not a customer: \(sender) is not a customer of project \(project.key) and signup is restricted")
        case .blocked(let pattern):
            return .ignored("blocked: \(sender) matches \(pattern) on the block list of project \(project.key)")
        }
        if try customer(sender, projectId: projectId, in: db) == nil {
            var customer = Customer(
                id: nil, projectId: projectId, address: sender, name: intake.senderName, createdAt: Date())
            try customer.insert(db)
        }
        let now = Date()
        if var request = try thread(intake, project: project, in: db), let requestId = request.id {
            let text = intake.commentText.isEmpty ? intake.description : intake.commentText
            var comment = Comment(
                id: nil, requestId: requestId, author: sender, body: text, isPublic: true, source: .email,
                inboundId: inbound.id, createdAt: now)
            try comment.insert(db)
            if let messageID = intake.messageID { try index(messageID: messageID, requestId: requestId, in: db) }
            try recordAttachments(files, requestId: requestId, commentId: comment.id, inboundId: inbound.id, in: db)
            try addParticipants(intake.copied, request: request, project: project, in: db)
            request.status = .waitingForSupport
            request.updatedAt = now
            try request.update(db)
            return .commented(request.key)
        }
        let key = try createRequest(
            intake, reporter: sender, project: project, channel: channel, inbound: inbound, files: files, in: db)
        return .created(key)
    }

    /// Creates the next request of the project from an inbound mail and returns its key.
    private static func createRequest(
        _ intake: InboundIntake, reporter: String, project: Project, channel: Channel, inbound: InboundMail,
        files: [SavedAttachment], in db: Database
    ) throws -> String {
        guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
        let now = Date()
        var numbered = project
        let key = "\(project.key)-\(project.nextRequestNumber)"
        numbered.nextRequestNumber += 1
        try numbered.update(db)
        // What the parser had to drop (over-limit attachments) is said in the request itself.
        let dropped = intake.notes.filter { $0.contains(" dropped") }.map { "[postdesk] " + $0 }
        let description = ([intake.description] + dropped).filter { !$0.isEmpty }.joined(separator: "\n\n")
        var request = ServiceRequest(
            id: nil, projectId: projectId, key: key, requestTypeId: channel.requestTypeId, channelId: channel.id,
            summary: intake.summary, description: description, status: .waitingForSupport, reporter: reporter,
            createdAt: now, updatedAt: now)
        try request.insert(db)
        guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
        if let messageID = intake.messageID {
            try index(messageID: messageID, requestId: requestId, in: db)
        }
        try recordAttachments(files, requestId: requestId, commentId: nil, inboundId: inbound.id, in: db)
        try addParticipants(intake.copied, request: request, project: project, in: db)
        return key
    }

    /// The request a mail answers: In-Reply-To/References naming a Message-ID we sent or received
    /// for a request of this project, else the request key in the subject (`[SD-12]`).
    private static func thread(_ intake: InboundIntake, project: Project, in db: Database) throws -> ServiceRequest? {
        for messageID in intake.referencedMessageIDs {
            if let request = try ServiceRequest.fetchOne(
                db,
                sql: """
                    SELECT request.* FROM messageIndex JOIN request ON request.id = messageIndex.requestId
                    WHERE messageIndex.messageId = ? AND request.projectId = ?
                    """,
                arguments: [messageID, project.id])
            {
                return request
            }
        }
        for key in RequestKeyScanner.keys(in: intake.subject ?? "", projectKey: project.key) {
            if let request = try ServiceRequest.filter(Column("key") == key && Column("projectId") == project.id)
                .fetchOne(db)
            {
                return request
            }
        }
        return nil
    }
}

/// Finds request keys of one project written in brackets in a subject, e.g. `Re: [SD-12] Printer`.
public enum RequestKeyScanner {
    /// The keys found, in order of appearance.
    public static func keys(in subject: String, projectKey: String) -> [String] {
        var keys: [String] = []
        let prefix = "[" + projectKey.uppercased() + "-"
        var rest = Substring(subject.uppercased())
        while let start = rest.range(of: prefix) {
            let afterPrefix = rest[start.upperBound...]
            let digits = afterPrefix.prefix(while: { $0.isASCII && $0.isNumber })
            if !digits.isEmpty, afterPrefix.dropFirst(digits.count).first == "]", digits.count < 10 {
                keys.append(projectKey.uppercased() + "-" + digits)
            }
            rest = afterPrefix
        }
        return keys
    }
}

extension DeskStore {
    /// The mailbox UID an inbound mail was fetched under, without loading its bytes.
    public func mailboxUid(ofInbound id: Int64) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT mailboxUid FROM inbound WHERE id = ?", arguments: [id])
        }
    }

    /// One inbound mail by id.
    public func inbound(id: Int64) async throws -> InboundMail? {
        try await read { db in try InboundMail.fetchOne(db, key: id) }
    }
}

/// An attachment whose bytes are on disk, ready to be recorded.
struct SavedAttachment: Sendable {
    var filename: String
    var contentType: String
    var isInline: Bool
    var size: Int
    var sha256: String
}

/// An attachment kept with a request.
public struct StoredAttachment: Codable, Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var size: Int
    public var sha256: String
    public var isInline: Bool
    /// Where its bytes are on disk.
    public var path: String
}

extension DeskStore {
    /// Writes an attachment's bytes under the data directory, named by their SHA-256.
    func saveAttachment(_ attachment: IncomingAttachment) throws -> SavedAttachment {
        let digest = SHA256.hash(data: attachment.data).map { String(format: "%02x", $0) }.joined()
        let file = Self.attachmentURL(sha256: digest, in: attachmentDirectory)
        let manager = FileManager.default
        if !manager.fileExists(atPath: file.path) {
            do {
                try manager.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                let temporary = file.appendingPathExtension("partial-\(UUID().uuidString)")
                try Data(attachment.data).write(to: temporary)
                if rename(temporary.path, file.path) != 0 {
                    try? manager.removeItem(at: temporary)
                    if !manager.fileExists(atPath: file.path) {
                        throw DeskError(.storage, "cannot store attachment \(attachment.filename)")
                    }
                }
            } catch let error as DeskError {
                throw error
            } catch {
                throw DeskError(.storage, "cannot store attachment \(attachment.filename): \(error)")
            }
        }
        return SavedAttachment(
            filename: attachment.filename, contentType: attachment.contentType, isInline: attachment.isInline,
            size: attachment.data.count, sha256: digest)
    }

    static func attachmentURL(sha256: String, in directory: URL) -> URL {
        directory.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true).appendingPathComponent(sha256)
    }

    static func recordAttachments(
        _ files: [SavedAttachment], requestId: Int64, commentId: Int64?, inboundId: Int64?, in db: Database
    ) throws {
        for file in files {
            try db.execute(
                sql: """
                    INSERT INTO attachment (requestId, commentId, inboundId, filename, contentType, size, sha256, isInline)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    requestId, commentId, inboundId, file.filename, file.contentType, file.size, file.sha256,
                    file.isInline,
                ])
        }
    }

    /// The attachments of a request, oldest first.
    public func attachments(requestKey: String) async throws -> [StoredAttachment] {
        let directory = attachmentDirectory
        return try await read { db in
            let request = try Self.request(requestKey, in: db)
            return try Row.fetchAll(
                db,
                sql:
                    "SELECT filename, contentType, size, sha256, isInline FROM attachment WHERE requestId = ? ORDER BY id",
                arguments: [request.id]
            ).map { row in
                let sha: String = row["sha256"]
                return StoredAttachment(
                    filename: row["filename"], contentType: row["contentType"], size: row["size"], sha256: sha,
                    isInline: row["isInline"], path: Self.attachmentURL(sha256: sha, in: directory).path)
            }
        }
    }

    static func isChannelAddress(_ address: String, in db: Database) throws -> Bool {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM channelAddress WHERE address = ?", arguments: [address]) ?? 0
            > 0
    }

    /// Adds copied addresses as participants when the project admits them; channel addresses and
    /// the reporter are not participants.
    static func addParticipants(_ addresses: [String], request: ServiceRequest, project: Project, in db: Database)
        throws
    {
        guard let requestId = request.id else { return }
        for address in addresses where address != request.reporter {
            guard try !isChannelAddress(address, in: db),
                try admission(for: address, project: project, in: db) == .admitted
            else { continue }
            try db.execute(
                sql: "INSERT OR IGNORE INTO participant (requestId, address) VALUES (?, ?)",
                arguments: [requestId, address])
        }
    }

    /// The participants of a request (besides the reporter).
    public func participants(requestKey: String) async throws -> [String] {
        try await read { db in
            let request = try Self.request(requestKey, in: db)
            return try String.fetchAll(
                db, sql: "SELECT address FROM participant WHERE requestId = ? ORDER BY address", arguments: [request.id]
            )
        }
    }
}
