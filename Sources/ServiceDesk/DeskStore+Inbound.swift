import Crypto
import Foundation
import GRDB

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
                requestKey: nil)
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
        try await write { db in
            guard var inbound = try InboundMail.fetchOne(db, key: inboundId) else {
                throw DeskError.notFound("inbound mail \(inboundId) does not exist")
            }
            if inbound.processedAt != nil {
                return Self.storedDisposition(of: inbound)
            }
            let disposition = try Self.decide(intake, inbound: inbound, in: db)
            inbound.processedAt = Date()
            inbound.fromAddress = intake.senderAddress
            inbound.subject = intake.subject
            inbound.outcome = disposition.outcome
            inbound.detail = disposition.detail
            inbound.requestKey = disposition.requestKey
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

    private static func decide(_ intake: InboundIntake, inbound: InboundMail, in db: Database) throws -> Disposition {
        guard let channel = try Channel.fetchOne(db, key: inbound.channelId),
            let project = try Project.fetchOne(db, key: channel.projectId), let projectId = project.id
        else {
            return .failed("the channel of this mail no longer exists")
        }
        if let automatic = intake.automatic {
            return .ignored("auto-reply: \(automatic.header) (\(automatic.reason))")
        }
        let sender = intake.senderAddress
        if sender.isEmpty {
            return .ignored("no sender address")
        }
        if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM channel WHERE address = ?", arguments: [sender]) ?? 0 > 0 {
            return .ignored("sent by a linked channel address (mail loop)")
        }
        guard intake.admitted else {
            return .ignored(
                "not a customer: \(sender) is not a customer of project \(project.key) and signup is restricted")
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
            request.status = .waitingForSupport
            request.updatedAt = now
            try request.update(db)
            return .commented(request.key)
        }
        var numbered = project
        let key = "\(project.key)-\(project.nextRequestNumber)"
        numbered.nextRequestNumber += 1
        try numbered.update(db)
        var request = ServiceRequest(
            id: nil, projectId: projectId, key: key, requestTypeId: channel.requestTypeId, channelId: channel.id,
            summary: intake.summary, description: intake.description, status: .waitingForSupport, reporter: sender,
            createdAt: now, updatedAt: now)
        try request.insert(db)
        if let messageID = intake.messageID, let requestId = request.id {
            try index(messageID: messageID, requestId: requestId, in: db)
        }
        return .created(key)
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

    /// The processing log: every inbound mail with its outcome, newest first.
    public func inboundLog(channelAddress: String?, since: Date?, limit: Int) async throws -> [InboundMail] {
        try await read { db in
            var query = InboundMail.all()
            if let channelAddress {
                guard
                    let channel = try Channel.filter(Channel.Columns.address == channelAddress.lowercased()).fetchOne(
                        db)
                else { throw DeskError.notFound("no channel with address \(channelAddress)") }
                query = query.filter(InboundMail.Columns.channelId == channel.id)
            }
            if let since { query = query.filter(InboundMail.Columns.fetchedAt >= since) }
            return try query.order(Column("id").desc).limit(limit).fetchAll(db)
        }
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
    /// One inbound mail by id.
    public func inbound(id: Int64) async throws -> InboundMail? {
        try await read { db in try InboundMail.fetchOne(db, key: id) }
    }
}
