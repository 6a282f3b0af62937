import Crypto
import Foundation
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

/// A stored mail the router has read, handed to `process(_:policy:)` with the others of its batch.
public struct ReadInbound: Sendable {
    /// The inbound row.
    public var inboundId: Int64
    /// Its reading (`MailReading(raw:)` of the row's bytes).
    public var reading: MailReading

    public init(inboundId: Int64, reading: MailReading) {
        self.inboundId = inboundId
        self.reading = reading
    }
}

extension DeskStore {
    /// Claims a stored mail for a processing attempt: counts the attempt before it starts (so that a
    /// mail that crashes or hangs the process is counted too) and returns the row. Returns nil when
    /// the mail is processed already, when another node's claim on it runs (`processingClaims`), or
    /// when it has used up its attempts: then it is quarantined as failed with its last error, and
    /// intake carries on.
    public func claimForProcessing(inboundId: Int64, policy: IntakePolicy) async throws -> InboundMail? {
        try await claimForProcessing(inboundIds: [inboundId], policy: policy).first
    }

    /// Claims many stored mails in one transaction, each as `claimForProcessing(inboundId:policy:)` claims it
    /// alone: the rows to attempt, in the order asked (an id asked twice is claimed once).
    public func claimForProcessing(inboundIds: [Int64], policy: IntakePolicy) async throws -> [InboundMail] {
        guard !inboundIds.isEmpty else { return [] }
        let claims = processingClaims
        return try await write { db in
            var seen = Set<Int64>()
            var claimed: [InboundMail] = []
            for id in inboundIds where seen.insert(id).inserted {
                if let mail = try Self.claim(id, policy: policy, claims: claims, in: db) { claimed.append(mail) }
            }
            return claimed
        }
    }

    private static func claim(
        _ inboundId: Int64, policy: IntakePolicy, claims: (any ProcessingClaims)?, in db: any SQLSession
    ) throws -> InboundMail? {
        guard
            var mail = try InboundMail.fetchOne(db, sql: "SELECT * FROM inbound WHERE id = ?", arguments: [inboundId]),
            mail.processedAt == nil
        else { return nil }
        // Another node is attempting it: neither an attempt nor a quarantine of this node's.
        if let claims, try !claims.claim(inboundId: inboundId, in: db) { return nil }
        if mail.attempts >= policy.maxAttempts {
            let detail =
                "quarantined after \(mail.attempts) attempts: \(mail.detail ?? "processing did not finish")"
                + "; postdesk inbound retry \(inboundId) tries again"
            try quarantine(inboundId, detail: detail, in: db)
            return nil
        }
        try db.execute(sql: "UPDATE inbound SET attempts = attempts + 1 WHERE id = ?", arguments: [inboundId])
        mail.attempts += 1
        return mail
    }

    private static func quarantine(_ inboundId: Int64, detail: String, in db: any SQLSession) throws {
        try db.execute(
            sql: "UPDATE inbound SET processedAt = ?, outcome = ?, detail = ? WHERE id = ?",
            arguments: [Date(), InboundOutcome.failed, detail, inboundId])
    }

    /// Records that an attempt to process a mail failed. It stays pending for another attempt while
    /// it has attempts left; the last error is kept for the log.
    public func recordAttemptFailure(inboundId: Int64, reason: String, policy: IntakePolicy) async throws {
        let claims = processingClaims
        try await write { db in
            try claims?.release(inboundId: inboundId, in: db)
            guard
                let row = try SQLRow.fetchOne(
                    db, sql: "SELECT attempts FROM inbound WHERE id = ? AND processedAt IS NULL",
                    arguments: [inboundId])
            else { return }
            let attempts: Int = try row["attempts"]
            if attempts >= policy.maxAttempts {
                try Self.quarantine(inboundId, detail: "quarantined after \(attempts) attempts: \(reason)", in: db)
            } else {
                try db.execute(sql: "UPDATE inbound SET detail = ? WHERE id = ?", arguments: [reason, inboundId])
            }
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
        return try await processAlone(reading, inboundId: inboundId, files: files, policy: policy)
    }

    /// Decides and records many mails in one write transaction, each exactly as `process(_:inboundId:policy:)`
    /// decides it alone, in order: a reply to a request an earlier mail of the batch created joins it, and the
    /// rate breaker counts the earlier mails. Each mail runs in its own savepoint, so one that fails is rolled back
    /// alone and answers its error while the others commit; when the transaction itself fails (its commit, a full
    /// disk), every mail is processed again on its own. The answers are in the order of `batch`.
    public func process(_ batch: [ReadInbound], policy: IntakePolicy = .init()) async -> [Result<
        Disposition, DeskError
    >] {
        var results = [Result<Disposition, DeskError>?](repeating: nil, count: batch.count)
        var ready: [(index: Int, item: ReadInbound, files: [SavedAttachment])] = []
        for (index, item) in batch.enumerated() {
            do {
                ready.append((index, item, try item.reading.attachments.map { try saveAttachment($0) }))
            } catch {
                results[index] = .failure(Self.deskError(error, doing: "write"))
            }
        }
        let secrets = self.secrets
        let work = ready
        do {
            let decided = try await write { db in
                var cache = DecisionCache()
                return try work.map { entry -> Result<Disposition, DeskError> in
                    do {
                        return .success(
                            try db.inSavepoint {
                                try Self.processInTransaction(
                                    entry.item.reading, inboundId: entry.item.inboundId, files: entry.files,
                                    policy: policy, secrets: secrets, cache: &cache, in: db)
                            })
                    } catch let error as SavepointFailure {
                        // A savepoint undoes one mail; an error that ended the whole transaction undoes them all.
                        return .failure(Self.deskError(error.underlying, doing: "write"))
                    }
                }
            }
            for (entry, result) in zip(work, decided) { results[entry.index] = result }
        } catch {
            for entry in work {
                do {
                    results[entry.index] = .success(
                        try await processAlone(
                            entry.item.reading, inboundId: entry.item.inboundId, files: entry.files, policy: policy))
                } catch {
                    results[entry.index] = .failure(Self.deskError(error, doing: "write"))
                }
            }
        }
        return results.map { $0 ?? .failure(DeskError(.storage, "the mail was not processed")) }
    }

    private func processAlone(
        _ reading: MailReading, inboundId: Int64, files: [SavedAttachment], policy: IntakePolicy
    ) async throws -> Disposition {
        let secrets = self.secrets
        return try await write { db in
            var cache = DecisionCache()
            return try Self.processInTransaction(
                reading, inboundId: inboundId, files: files, policy: policy, secrets: secrets, cache: &cache, in: db)
        }
    }

    /// A store error as the one-mail methods throw it.
    static func deskError(_ error: any Error, doing what: String) -> DeskError {
        error as? DeskError ?? DeskError(.storage, "database \(what) failed: \(error)")
    }

    private static func processInTransaction(
        _ reading: MailReading, inboundId: Int64, files: [SavedAttachment], policy: IntakePolicy,
        secrets: SecretBox, cache: inout DecisionCache, in db: any SQLSession
    ) throws -> Disposition {
        guard let inbound = try InboundState.fetch(inboundId, in: db) else {
            throw DeskError.notFound("inbound mail \(inboundId) does not exist")
        }
        if inbound.processed {
            return storedDisposition(outcome: inbound.outcome, requestKey: inbound.requestKey, detail: inbound.detail)
        }
        let disposition = try decide(
            reading, inbound: inbound, files: files, policy: policy, secrets: secrets, cache: &cache, in: db)
        try db.execute(
            sql: """
                UPDATE inbound SET processedAt = ?, fromAddress = ?, subject = ?, outcome = ?, detail = ?, requestKey = ?,
                                   notes = ?
                WHERE id = ?
                """,
            arguments: [
                cache.now, reading.senderAddress.isEmpty ? inbound.fromAddress : reading.senderAddress, reading.subject,
                disposition.outcome, disposition.detail, disposition.requestKey,
                reading.notes.isEmpty ? nil : reading.notes.joined(separator: "\n"), inboundId,
            ])
        return disposition
    }

    static func storedDisposition(outcome: InboundOutcome?, requestKey: String?, detail: String?) -> Disposition {
        switch outcome {
        case .created: .created(requestKey ?? "", note: detail)
        case .commented: .commented(requestKey ?? "")
        case .failed: .failed(detail ?? "")
        case .held: .held(detail ?? "")
        case .ignored, .pending, .duplicate, .skipped, nil: .ignored(detail ?? "")
        }
    }

    private static func decide(
        _ reading: MailReading, inbound: InboundState, files: [SavedAttachment], policy: IntakePolicy,
        secrets: SecretBox, cache: inout DecisionCache, in db: any SQLSession
    ) throws -> Disposition {
        guard let channel = try cache.channel(inbound.channelId, in: db),
            let project = try Project.fetchOne(
                db, sql: "SELECT * FROM project WHERE id = ?", arguments: [channel.projectId]),
            let projectId = project.id
        else {
            return .failed("the channel of this mail no longer exists")
        }
        // Our own `channel verify` test email: it comes from us, so it bypasses the loop and
        // customer checks, but only with a token this channel is waiting for.
        if let token = reading.verificationToken,
            let waiting = try SQLRow.fetchOne(
                db, sql: "SELECT requestKey FROM verification WHERE token = ? AND channelId = ?",
                arguments: [token, inbound.channelId]),
            try waiting.decode(String?.self, forColumn: "requestKey") == nil
        {
            let key = try createRequest(
                reading, reporter: reading.senderAddress.isEmpty ? channel.address : reading.senderAddress,
                project: project, channel: channel, inbound: inbound, files: files, now: cache.now,
                in: db)
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
        // An agent answering by mail is no customer: the signup rules and the customer list are not theirs.
        let agentAddress = try activeAgent(sender, in: db)
        let fromAgent = agentAddress != nil
        switch fromAgent ? .admitted : try admission(for: sender, project: project, in: db) {
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
        if !fromAgent {
            try db.execute(
                sql:
                    "INSERT INTO customer (projectId, address, name, createdAt) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [projectId, sender, reading.senderName, cache.now])
        }
        let now = cache.now
        let note: String?
        switch try thread(reading, project: project, secrets: secrets, in: db) {
        case .join(var request) where fromAgent:
            // An agent's answer by mail is an agent comment, mailed to the customer as the console's replies are.
            let text = reading.commentText.isEmpty ? reading.description : reading.commentText
            let (comment, _) = try insertAgentComment(
                on: &request, author: agentAddress ?? sender, body: text, isPublic: true, inboundId: inbound.id,
                now: Date(),
                recipientHourlyLimit: Self.recipientHourlyLimit, secrets: secrets, in: db)
            if let messageID = reading.messageID, let requestId = request.id {
                try index(messageID: messageID, requestId: requestId, at: now, in: db)
            }
            try recordAttachments(
                files, requestId: request.id ?? 0, commentId: comment.id, inboundId: inbound.id, in: db)
            return .commented(request.key)
        case .join(let request):
            guard let requestId = request.id else { throw DeskError(.storage, "request without id") }
            let text = reading.commentText.isEmpty ? reading.description : reading.commentText
            let commentId = try db.insertReturningId(
                sql: """
                    INSERT INTO comment (requestId, author, body, isPublic, source, inboundId, createdAt)
                    VALUES (?, ?, ?, 1, ?, ?, ?)
                    """, arguments: [requestId, sender, text, CommentSource.email.rawValue, inbound.id, now])
            if let messageID = reading.messageID {
                try index(messageID: messageID, requestId: requestId, at: now, in: db)
            }
            try recordAttachments(files, requestId: requestId, commentId: commentId, inboundId: inbound.id, in: db)
            try addParticipants(
                reading.copied, requestId: requestId, reporter: request.reporter, project: project, in: db)
            try db.execute(
                sql: "UPDATE request SET status = ?, updatedAt = ? WHERE id = ?",
                arguments: [RequestStatus.waitingForSupport.rawValue, now, requestId])
            return .commented(request.key)
        case .new(let refusal):
            note = refusal
        }
        let key = try createRequest(
            reading, reporter: sender, project: project, channel: channel, inbound: inbound, files: files,
            now: cache.now,
            in: db)
        if !fromAgent {
            try acknowledge(requestKey: key, projectId: projectId, now: Date(), secrets: secrets, in: db)
        }
        return .created(key, note: note)
    }

    /// Holds the mail when its sender already sent `senderHourlyLimit` mails to this channel within
    /// the hour before it arrived (a loop with an auto-responder that sets no headers, or a flood).
    private static func rateBreaker(
        _ sender: String, inbound: InboundState, policy: IntakePolicy, in db: any SQLSession
    ) throws -> Disposition? {
        guard policy.senderHourlyLimit > 0 else { return nil }
        let id = inbound.id
        let recent =
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM inbound
                    WHERE channelId = ? AND fromAddress = ?
                      AND fetchedAt > ? AND fetchedAt <= ?
                      AND id <> ?
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
        _ reading: MailReading, reporter: String, project: Project, channel: Channel, inbound: InboundState,
        files: [SavedAttachment], now: Date, in db: any SQLSession
    ) throws -> String {
        guard let projectId = project.id else { throw DeskError(.storage, "project without id") }
        // The number is taken and counted up in one statement, under the project row's lock: two nodes creating
        // requests of one project at once get different numbers (or one runs again after the serializable conflict).
        guard
            let number = try Int.fetchOne(
                db,
                sql:
                    "UPDATE project SET nextRequestNumber = nextRequestNumber + 1 WHERE id = ? RETURNING nextRequestNumber - 1",
                arguments: [projectId])
        else { throw DeskError(.storage, "project \(project.key) is gone") }
        let key = "\(project.key)-\(number)"
        // What the parser had to drop (over-limit attachments) is said in the request itself.
        let dropped = reading.notes.filter { $0.contains(" dropped") }.map { "[postdesk] " + $0 }
        let description = ([reading.description] + dropped).filter { !$0.isEmpty }.joined(separator: "\n\n")
        let requestId = try db.insertReturningId(
            sql: """
                INSERT INTO request (projectId, key, requestTypeId, channelId, summary, description, status, reporter,
                                     createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                projectId, key, channel.requestTypeId, channel.id, reading.summary, description,
                RequestStatus.waitingForSupport.rawValue, reporter, now, now,
            ])
        if let messageID = reading.messageID {
            try index(messageID: messageID, requestId: requestId, at: now, in: db)
        }
        try recordAttachments(files, requestId: requestId, commentId: nil, inboundId: inbound.id, in: db)
        try addParticipants(reading.copied, requestId: requestId, reporter: reporter, project: project, in: db)
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
        _ reading: MailReading, project: Project, secrets: SecretBox, in db: any SQLSession
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
        func request(key: String) throws -> ServiceRequest? {
            try ServiceRequest.fetchOne(
                db, sql: "SELECT * FROM request WHERE key = ? AND projectId = ?",
                arguments: [key, project.id])
        }
        for key in RequestKeyScanner.keys(in: reading.subject ?? "", projectKey: project.key).prefix(10) {
            consider(try request(key: key))
        }
        let tokens = ReplyToken.tokens(inMessageIDs: reading.referencedMessageIDs, addresses: reading.copied)
            .prefix(10).filter { $0.isValid(secrets: secrets) }
        for token in tokens {
            consider(try request(key: token.requestKey))
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

    /// The address of the console's agent who sent this, unless disabled (agents answer requests by mail too).
    static func activeAgent(_ sender: String, in db: any SQLSession) throws -> String? {
        try String.fetchOne(
            db, sql: "SELECT email FROM agent WHERE lower(email) = lower(?) AND disabled = 0", arguments: [sender])
    }

    /// Whether `sender` may add to a request: its reporter, one of its participants, an agent of the console, or
    /// an agent of the project (someone who has written an agent comment in it).
    private static func ownsConversation(
        _ sender: String, request: ServiceRequest, project: Project, in db: any SQLSession
    ) throws -> Bool {
        if request.reporter == sender { return true }
        if try activeAgent(sender, in: db) != nil { return true }
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

/// The columns of an inbound row that deciding its fate reads: never its bytes.
struct InboundState {
    var id: Int64
    var channelId: Int64
    var fetchedAt: Date
    var processed: Bool
    var fromAddress: String?
    var outcome: InboundOutcome?
    var detail: String?
    var requestKey: String?
    var rateExempt: Bool

    static func fetch(_ id: Int64, in db: any SQLSession) throws -> InboundState? {
        guard
            let row = try SQLRow.fetchOne(
                db,
                sql: """
                    SELECT channelId, fetchedAt, processedAt IS NOT NULL AS processed, fromAddress, outcome, detail,
                           requestKey, rateExempt
                    FROM inbound WHERE id = ?
                    """,
                arguments: [id])
        else { return nil }
        return InboundState(
            id: id, channelId: try row["channelId"], fetchedAt: try row["fetchedAt"], processed: try row["processed"],
            fromAddress: try row["fromAddress"], outcome: try row["outcome"], detail: try row["detail"],
            requestKey: try row["requestKey"], rateExempt: try row["rateExempt"])
    }
}

/// What one write transaction of `process` reads once for all its mails: the channels (a transaction's own
/// writes never change them).
struct DecisionCache {
    /// The time of the transaction.
    let now = Date()
    private var channels: [Int64: Channel?] = [:]

    mutating func channel(_ id: Int64, in db: any SQLSession) throws -> Channel? {
        if let known = channels[id] { return known }
        let channel = try Channel.fetchOne(db, sql: "SELECT * FROM channel WHERE id = ?", arguments: [id])
        channels[id] = channel
        return channel
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
    /// The bytes, when they are stored in the database with the rows (`attachmentsInDatabase`).
    var data: [UInt8]? = nil
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
        if attachmentsInDatabase {
            // Written with the rows that name it, in the same transaction.
            return SavedAttachment(
                filename: attachment.filename, contentType: attachment.contentType, isInline: attachment.isInline,
                size: attachment.data.count, sha256: digest, data: Array(attachment.data))
        }
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
        _ files: [SavedAttachment], requestId: Int64, commentId: Int64?, inboundId: Int64?, in db: any SQLSession
    ) throws {
        for file in files {
            if let data = file.data {
                try db.execute(
                    sql: "INSERT INTO attachmentBlob (sha256, data) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    arguments: [file.sha256, Data(data)])
            }
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
        let stored = try await read { db in
            let request = try Self.request(requestKey, in: db)
            return try SQLRow.fetchAll(
                db,
                sql:
                    "SELECT filename, contentType, size, sha256, isInline FROM attachment WHERE requestId = ? ORDER BY id",
                arguments: [request.id]
            ).map { row in
                let sha: String = try row["sha256"]
                return StoredAttachment(
                    filename: try row["filename"], contentType: try row["contentType"], size: try row["size"],
                    sha256: sha, isInline: try row["isInline"],
                    path: Self.attachmentURL(sha256: sha, in: directory).path)
            }
        }
        for attachment in stored { try await cacheAttachment(sha256: attachment.sha256) }
        return stored
    }

    /// Writes an attachment kept in the database (`attachmentsInDatabase`) into this node's cache directory, unless it
    /// is there; nothing to do when attachments are files.
    func cacheAttachment(sha256 digest: String) async throws {
        guard attachmentsInDatabase else { return }
        let file = Self.attachmentURL(sha256: digest, in: attachmentDirectory)
        guard !FileManager.default.fileExists(atPath: file.path) else { return }
        guard
            let data = try await read({ db in
                try Data.fetchOne(db, sql: "SELECT data FROM attachmentBlob WHERE sha256 = ?", arguments: [digest])
            })
        else { throw DeskError(.storage, "the bytes of attachment \(digest) are not in the database") }
        // Checked as a file from a backup is: the name says what the bytes must hash to.
        guard hexDigits(SHA256.hash(data: data)) == digest else {
            throw DeskError(.storage, "the stored bytes of attachment \(digest) do not match its SHA-256")
        }
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = file.appendingPathExtension("partial-\(UUID().uuidString)")
            try data.write(to: temporary)
            if rename(temporary.path, file.path) != 0 { try? FileManager.default.removeItem(at: temporary) }
        } catch {
            throw DeskError(.storage, "cannot cache attachment \(digest): \(error)")
        }
    }

    /// Whether an address is a linked channel's, also with a subaddress (`help+sd-12.token@…`, RFC 5233).
    static func isChannelAddress(_ address: String, in db: any SQLSession) throws -> Bool {
        var base = address
        if let at = address.lastIndex(of: "@"), let plus = address[..<at].firstIndex(of: "+") {
            base = String(address[..<plus] + address[at...])
        }
        return try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM channelAddress WHERE address IN (?, ?))",
            arguments: [address, base]) == true
    }

    /// Adds copied addresses as participants when the project admits them; channel addresses and
    /// the reporter are not participants.
    static func addParticipants(
        _ addresses: [String], requestId: Int64, reporter: String, project: Project, in db: any SQLSession
    ) throws {
        for address in addresses where address != reporter {
            guard try !isChannelAddress(address, in: db),
                try admission(for: address, project: project, in: db) == .admitted
            else { continue }
            try db.execute(
                sql: "INSERT INTO participant (requestId, address) VALUES (?, ?) ON CONFLICT DO NOTHING",
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
