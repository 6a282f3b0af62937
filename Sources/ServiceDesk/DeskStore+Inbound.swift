import Crypto
import Foundation
import GRDB
import MailMessage

#if canImport(Glibc)
    import Glibc
#endif

/// Limits on intake that the store applies while it decides a mail's fate.
public struct IntakePolicy: Sendable, Equatable {
    /// More mails than this from one sender to one channel within an hour are held (a mail loop or a
    /// flood), until an admin releases or drops them. Default 20.
    public var senderHourlyLimit: Int
    /// Processing attempts before a mail that keeps failing is quarantined as failed. Default 3.
    public var maxAttempts: Int

    /// Makes a policy; the defaults suit a service desk.
    public init(senderHourlyLimit: Int = 20, maxAttempts: Int = 3) {
        self.senderHourlyLimit = senderHourlyLimit
        self.maxAttempts = maxAttempts
    }
}

extension DeskStore {
    /// Claims a stored mail for a processing attempt: counts the attempt before it starts (so that a
    /// mail that crashes or hangs the process is counted too) and returns the row. Returns nil when
    /// the mail is processed already, or when it has used up its attempts: then it is quarantined
    /// as failed with its last error, and intake carries on.
    public func claimForProcessing(inboundId: Int64, policy: IntakePolicy) async throws -> InboundMail? {
        try await write { db in
            guard var mail = try InboundMail.fetchOne(db, key: inboundId), mail.processedAt == nil else { return nil }
            if mail.attempts >= policy.maxAttempts {
                mail.processedAt = Date()
                mail.outcome = .failed
                mail.detail =
                    "quarantined after \(mail.attempts) attempts: \(mail.detail ?? "processing did not finish")"
                    + "; postdesk inbound retry \(inboundId) tries again"
                try mail.update(db)
                return nil
            }
            mail.attempts += 1
            try mail.update(db)
            return mail
        }
    }

    /// Records that an attempt to process a mail failed. It stays pending for another attempt while
    /// it has attempts left; the last error is kept for the log.
    public func recordAttemptFailure(inboundId: Int64, reason: String, policy: IntakePolicy) async throws {
        try await write { db in
            guard var mail = try InboundMail.fetchOne(db, key: inboundId), mail.processedAt == nil else { return }
            mail.detail = reason
            if mail.attempts >= policy.maxAttempts {
                mail.processedAt = Date()
                mail.outcome = .failed
                mail.detail = "quarantined after \(mail.attempts) attempts: \(reason)"
            }
            try mail.update(db)
        }
    }

    /// Decides what a stored mail becomes and records it, all in one transaction: admission (block and
    /// allow lists, signup), the per-sender rate breaker, threading (only for senders who own the
    /// conversation or carry its reply token), participants, and the outcome. A mail already
    /// processed is left as it was.
    public func process(_ reading: MailReading, inboundId: Int64, policy: IntakePolicy = .init()) async throws
        -> Disposition
    {
        // Attachment files are content-addressed and written first: a crash before the transaction
        // leaves at most an unreferenced file, never a row without its bytes.
        let files = try reading.attachments.map { try saveAttachment($0) }
        let secrets = self.secrets
        return try await write { db in
            guard var inbound = try InboundMail.fetchOne(db, key: inboundId) else {
                throw DeskError.notFound("inbound mail \(inboundId) does not exist")
            }
            if inbound.processedAt != nil {
                return Self.storedDisposition(of: inbound)
            }
            let disposition = try Self.decide(
                reading, inbound: inbound, files: files, policy: policy, secrets: secrets, in: db)
            inbound.processedAt = Date()
            inbound.fromAddress = reading.senderAddress.isEmpty ? inbound.fromAddress : reading.senderAddress
            inbound.subject = reading.subject
            inbound.outcome = disposition.outcome
            inbound.detail = disposition.detail
            inbound.requestKey = disposition.requestKey
            inbound.notes = reading.notes.isEmpty ? nil : reading.notes.joined(separator: "\n")
            try inbound.update(db)
            return disposition
        }
    }

    static func storedDisposition(of inbound: InboundMail) -> Disposition {
        switch inbound.outcome {
        case .created: .created(inbound.requestKey ?? "", note: inbound.detail)
        case .commented: .commented(inbound.requestKey ?? "")
        case .failed: .failed(inbound.detail ?? "")
        case .held: .held(inbound.detail ?? "")
        case .ignored, .pending, .duplicate, .skipped, nil: .ignored(inbound.detail ?? "")
        }
    }

    private static func decide(
        _ reading: MailReading, inbound: InboundMail, files: [SavedAttachment], policy: IntakePolicy,
        secrets: SecretBox, in db: Database
    ) throws -> Disposition {
        guard let channel = try Channel.fetchOne(db, key: inbound.channelId),
            let project = try Project.fetchOne(db, key: channel.projectId), let projectId = project.id
        else {
            return .failed("the channel of this mail no longer exists")
        }
        // Our own `channel verify` test email: it comes from us, so it bypasses the loop and
        // customer checks, but only with a token this channel is waiting for.
        if let token = reading.verificationToken,
            let waiting = try Row.fetchOne(
                db, sql: "SELECT requestKey FROM verification WHERE token = ? AND channelId = ?",
                arguments: [token, inbound.channelId]),
            (waiting["requestKey"] as String?) == nil
        {
            let key = try createRequest(
                reading, reporter: reading.senderAddress.isEmpty ? channel.address : reading.senderAddress,
                project: project, channel: channel, inbound: inbound, files: files, in: db)
            try db.execute(
                sql: "UPDATE verification SET requestKey = ?, outcome = 'created' WHERE token = ?",
                arguments: [key, token])
            return .created(key)
        }
        if let automatic = reading.automatic {
            return .ignored("auto-reply: \(automatic.header) (\(automatic.reason))")
        }
        let sender = reading.senderAddress
        if sender.isEmpty {
            return .ignored("no sender address")
        }
        if try isChannelAddress(sender, in: db) {
            return .ignored("sent by a linked channel address (mail loop)")
        }
        switch try admission(for: sender, project: project, in: db) {
        case .admitted:
            break
        case .notCustomer:
            return .ignored(
                "not a customer: \(sender) is not a customer of project \(project.key) and signup is restricted")
        case .blocked(let pattern):
            return .ignored("blocked: \(sender) matches \(pattern) on the block list of project \(project.key)")
        }
        if !inbound.rateExempt, let held = try rateBreaker(sender, inbound: inbound, policy: policy, in: db) {
            return held
        }
        if try customer(sender, projectId: projectId, in: db) == nil {
            var customer = Customer(
                id: nil, projectId: projectId, address: sender, name: reading.senderName, createdAt: Date())
            try customer.insert(db)
        }
        let now = Date()
        let note: String?
        switch try thread(reading, project: project, secrets: secrets, in: db) {
        case .join(var request):
            guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
            let text = reading.commentText.isEmpty ? reading.description : reading.commentText
            var comment = Comment(
                id: nil, requestId: requestId, author: sender, body: text, isPublic: true, source: .email,
                inboundId: inbound.id, createdAt: now)
            try comment.insert(db)
            if let messageID = reading.messageID { try index(messageID: messageID, requestId: requestId, in: db) }
            try recordAttachments(files, requestId: requestId, commentId: comment.id, inboundId: inbound.id, in: db)
            try addParticipants(reading.copied, request: request, project: project, in: db)
            request.status = .waitingForSupport
            request.updatedAt = now
            try request.update(db)
            return .commented(request.key)
        case .new(let refusal):
            note = refusal
        }
        let key = try createRequest(
            reading, reporter: sender, project: project, channel: channel, inbound: inbound, files: files, in: db)
        return .created(key, note: note)
    }

    /// Holds the mail when its sender already sent `senderHourlyLimit` mails to this channel within
    /// the hour before it arrived (a loop with an auto-responder that sets no headers, or a flood).
    private static func rateBreaker(
        _ sender: String, inbound: InboundMail, policy: IntakePolicy, in db: Database
    ) throws -> Disposition? {
        guard policy.senderHourlyLimit > 0, let id = inbound.id else { return nil }
        let recent =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM inbound
                    WHERE channelId = ? AND fromAddress = ? AND fetchedAt > ? AND fetchedAt <= ? AND id <> ?
                      AND outcome IN ('created', 'commented', 'held')
                    """,
                arguments: [
                    inbound.channelId, sender, inbound.fetchedAt.addingTimeInterval(-3600), inbound.fetchedAt, id,
                ]) ?? 0
        guard recent >= policy.senderHourlyLimit else { return nil }
        return .held(
            "rate limit: \(sender) sent more than \(policy.senderHourlyLimit) mails to this channel within an hour; "
                + "held: postdesk inbound release \(id) (or --sender \(sender)), or postdesk inbound drop")
    }

    /// Creates the next request of the project from an inbound mail and returns its key.
    private static func createRequest(
        _ reading: MailReading, reporter: String, project: Project, channel: Channel, inbound: InboundMail,
        files: [SavedAttachment], in db: Database
    ) throws -> String {
        guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
        let now = Date()
        var numbered = project
        let key = "\(project.key)-\(project.nextRequestNumber)"
        numbered.nextRequestNumber += 1
        try numbered.update(db)
        // What the parser had to drop (over-limit attachments) is said in the request itself.
        let dropped = reading.notes.filter { $0.contains(" dropped") }.map { "[postdesk] " + $0 }
        let description = ([reading.description] + dropped).filter { !$0.isEmpty }.joined(separator: "\n\n")
        var request = ServiceRequest(
            id: nil, projectId: projectId, key: key, requestTypeId: channel.requestTypeId, channelId: channel.id,
            summary: reading.summary, description: description, status: .waitingForSupport, reporter: reporter,
            createdAt: now, updatedAt: now)
        try request.insert(db)
        guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
        if let messageID = reading.messageID {
            try index(messageID: messageID, requestId: requestId, in: db)
        }
        try recordAttachments(files, requestId: requestId, commentId: nil, inboundId: inbound.id, in: db)
        try addParticipants(reading.copied, request: request, project: project, in: db)
        return key
    }

    /// Whether a mail joins a request, or why it does not.
    private enum ThreadDecision {
        case join(ServiceRequest)
        /// A new request; the reason when the mail named a request it may not join.
        case new(refusal: String?)
    }

    /// The request a mail answers, if its sender may join it. The candidates, in order: requests of
    /// this project whose Message-IDs (ours or received) In-Reply-To/References names, then request
    /// keys in the subject (`[SD-12]`), then requests whose valid reply token the mail carries. A
    /// candidate is joined only when the sender is its reporter, a participant or an agent of the
    /// project, or when the mail carries that request's reply token: a key or a Message-ID alone is a
    /// hint, never an authority, or one customer could read another's request.
    private static func thread(
        _ reading: MailReading, project: Project, secrets: SecretBox, in db: Database
    ) throws -> ThreadDecision {
        var candidates: [ServiceRequest] = []
        func consider(_ request: ServiceRequest?) {
            if let request, !candidates.contains(where: { $0.id == request.id }) { candidates.append(request) }
        }
        for messageID in reading.referencedMessageIDs.prefix(50) {
            consider(
                try ServiceRequest.fetchOne(
                    db,
                    sql: """
                        SELECT request.* FROM messageIndex JOIN request ON request.id = messageIndex.requestId
                        WHERE messageIndex.messageId = ? AND request.projectId = ?
                        """,
                    arguments: [messageID, project.id]))
        }
        for key in RequestKeyScanner.keys(in: reading.subject ?? "", projectKey: project.key).prefix(10) {
            consider(try ServiceRequest.filter(Column("key") == key && Column("projectId") == project.id).fetchOne(db))
        }
        let tokens = ReplyToken.tokens(inMessageIDs: reading.referencedMessageIDs, addresses: reading.copied)
            .prefix(10).filter { $0.isValid(secrets: secrets) }
        for token in tokens {
            consider(
                try ServiceRequest.filter(Column("key") == token.requestKey && Column("projectId") == project.id)
                    .fetchOne(db))
        }
        let tokenKeys = Set(tokens.map(\.requestKey))
        for request in candidates {
            if tokenKeys.contains(request.key) { return .join(request) }
            if try ownsConversation(reading.senderAddress, request: request, project: project, in: db) {
                return .join(request)
            }
        }
        guard let named = candidates.first else { return .new(refusal: nil) }
        return .new(
            refusal: "not added to \(named.key): \(reading.senderAddress) is not its reporter, a participant or an "
                + "agent, and the mail carries no reply token of \(named.key); made a new request instead")
    }

    /// Whether `sender` may add to a request: its reporter, one of its participants, or an agent of the
    /// project (someone who has written an agent comment in it).
    private static func ownsConversation(
        _ sender: String, request: ServiceRequest, project: Project, in db: Database
    ) throws -> Bool {
        if request.reporter == sender { return true }
        if try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM participant WHERE requestId = ? AND address = ?)",
            arguments: [request.id, sender]) == true
        {
            return true
        }
        return try Bool.fetchOne(
            db,
            sql: """
                SELECT EXISTS (SELECT 1 FROM comment JOIN request ON request.id = comment.requestId
                               WHERE request.projectId = ? AND comment.author = ? AND comment.source = 'agent')
                """,
            arguments: [project.id, sender]) == true
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
        let digest = hexDigits(SHA256.hash(data: attachment.data))
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

    /// Whether an address is a linked channel's, also with a subaddress (`help+sd-12.token@…`, RFC 5233).
    static func isChannelAddress(_ address: String, in db: Database) throws -> Bool {
        var base = address
        if let at = address.lastIndex(of: "@"), let plus = address[..<at].firstIndex(of: "+") {
            base = String(address[..<plus] + address[at...])
        }
        return try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM channelAddress WHERE address IN (?, ?))", arguments: [address, base])
            == true
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
