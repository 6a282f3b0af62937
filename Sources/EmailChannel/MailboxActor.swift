import Foundation
import Logging
import MailClients
import MailMessage
import ServiceDesk

/// Owns one linked mailbox: its own IMAP session, IDLE where offered (else a poll every
/// minute), and backoff on failures. It stores each new mail before it marks it \Seen, then
/// hands the stored row to the router (DESIGN.md §2, nothing lost, nothing twice).
public actor MailboxActor {
    private let runnable: RunnableChannel
    private let store: DeskStore
    private let router: RequestRouter
    private let statusBoard: ChannelStatusBoard
    private let logger: Logger
    private let pollInterval: Duration
    private let idleInterval: Duration
    private let backoff: MailboxBackoff
    private let clock: any Clock<Duration>
    private let largestMessage: Int
    private let commandTimeout: Duration
    private var failures = 0
    /// The highest UID already looked at for mail marked read before we fetched it.
    private var examinedThrough: UInt32 = 0

    public init(
        channel: RunnableChannel,
        store: DeskStore,
        router: RequestRouter,
        statusBoard: ChannelStatusBoard,
        pollInterval: Duration = .seconds(60),
        idleInterval: Duration = .seconds(25 * 60),
        clock: any Clock<Duration> = ContinuousClock(),
        largestMessage: Int = MailboxActor.defaultLargestMessage,
        commandTimeout: Duration = .seconds(60),
        logger: Logger
    ) {
        self.largestMessage = largestMessage
        self.commandTimeout = commandTimeout
        let provider = channel.channel.provider
        self.backoff = MailboxBackoff(
            provider: provider == .custom
                ? ProviderProfile.matching(host: channel.channel.host) : ProviderProfile.of(provider))
        self.clock = clock
        self.runnable = channel
        self.store = store
        self.router = router
        self.statusBoard = statusBoard
        self.pollInterval = pollInterval
        self.idleInterval = idleInterval
        var logger = logger
        logger[metadataKey: "mailbox.id"] = "\(channel.channel.id ?? 0)"
        self.logger = logger
    }

    private var channel: Channel { runnable.channel }
    private var channelId: Int64 { channel.id ?? 0 }

    /// Runs until cancelled: a session, and after a failure a new one when the backoff allows.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await session()
            } catch is CancellationError {
                break
            } catch let error as EmailChannelError {
                if Task.isCancelled { break }
                // A credential that cannot be read (token file, token command) or a store that refused a
                // write: retried with backoff, and shown, never parked for good.
                failures += 1
                let delay = backoff.transientDelay(attempt: failures)
                let retryAt = Date().addingTimeInterval(delay.timeInterval)
                let state: MailboxState = error.code == .credentialUnavailable ? .needsAttention : .backingOff
                await report(state: state, detail: error.message, error: error, retryAt: retryAt)
                logger.warning("mailbox session failed", metadata: ["error": "\(error)", "retry.in": "\(delay)"])
                try? await clock.sleep(for: delay)
            } catch {
                if Task.isCancelled { break }
                let clientError =
                    error as? MailClientError ?? MailClientError(.connectionClosed, "\(error)", underlying: nil)
                let diagnosis = MailboxDiagnosis.diagnose(clientError)
                failures += 1
                switch backoff.decision(for: diagnosis, attempt: failures) {
                case .needsAttention:
                    // No retry loop: the channel waits until an admin edits or re-tests it.
                    await report(state: .needsAttention, detail: diagnosis.line, error: clientError)
                    logger.warning("mailbox needs attention", metadata: ["error": "\(clientError)"])
                    try? await clock.sleep(for: .seconds(365 * 24 * 3600))
                case .retry(let delay):
                    let retryAt = Date().addingTimeInterval(Double(delay.components.seconds))
                    await report(state: .backingOff, detail: diagnosis.line, error: clientError, retryAt: retryAt)
                    logger.warning(
                        "mailbox session failed", metadata: ["error": "\(clientError)", "retry.in": "\(delay)"])
                    try? await clock.sleep(for: delay)
                }
            }
        }
        await statusBoard.update(channelId, address: channel.address) { $0.state = .stopped }
    }

    private func report(state: MailboxState, detail: String?, error: (any Error)? = nil, retryAt: Date? = nil) async {
        await statusBoard.update(channelId, address: channel.address) { status in
            status.state = state
            status.detail = detail
            status.retryAt = retryAt
            if let error { status.lastError = "\(error)" }
        }
    }

    private func session() async throws {
        switch channel.protocol {
        case .imap:
            try await imapSession()
        case .pop3:
            try await pop3Session()
        case .lmtp:
            // Push delivery has no session: the LMTP listener feeds the channel (the supervisor starts no actor).
            try await clock.sleep(for: .seconds(365 * 24 * 3600))
        }
    }

    /// The channel's server, with this actor's deadline for every command (and the greeting).
    var endpoint: MailServerEndpoint {
        var endpoint = MailServerEndpoint(channel: channel)
        endpoint.commandTimeout = commandTimeout
        return endpoint
    }

    private func imapSession() async throws {
        let credentials = try await MailboxCredentials.resolve(
            username: channel.username, secret: runnable.password, method: channel.authMethod)
        try await IMAPClient.withConnection(to: endpoint, logger: logger) { connection in
            try await connection.login(credentials)
            let status = try await connection.select("INBOX")
            let canIdle = connection.capabilities.contains("IDLE")
            let pollInterval = max(self.pollInterval, self.backoff.provider.minimumPollInterval)
            let detail = canIdle ? "IMAP IDLE" : "polling every \(pollInterval)"
            while !Task.isCancelled {
                await self.report(state: .fetching, detail: nil)
                try await self.fetchNewMail(connection, uidValidity: status.uidValidity)
                // Only a whole cycle (login, select, fetch, store, flag) counts as success: a session that
                // logs in and then fails every time keeps backing off.
                self.failures = 0
                await self.statusBoard.update(self.channelId, address: self.channel.address) { status in
                    status.lastSuccessAt = Date()
                    status.state = .idle
                    status.detail = detail
                }
                if canIdle {
                    // RFC 2177 §3: re-issue IDLE at least every 29 minutes.
                    _ = try await connection.idle(timeout: self.idleInterval)
                } else {
                    try await self.clock.sleep(for: pollInterval)
                    try await connection.noop()
                }
            }
        }
    }

    /// Fetches, stores and marks \Seen every new message. A refused UID STORE fails the cycle (it
    /// backs off with the server's words), but only after the later batches are stored too.
    private func fetchNewMail(_ connection: IMAPConnection, uidValidity: UInt32) async throws {
        let uids = try await newUIDs(connection, uidValidity: uidValidity)
        var refusal: MailClientError?
        for candidates in uids.chunked(into: 20) {
            // A message too large for the clients' hard limits would fail the session for ever and
            // block the mailbox: it is left unread in the mailbox and logged instead.
            let sizes = try await connection.uidFetchInfo(candidates.map(String.init).joined(separator: ","))
            var batch: [UInt32] = []
            for info in sizes {
                if let size = info.size, size > self.largestMessage {
                    try await logTooLarge(uid: String(info.uid), size: size)
                } else {
                    batch.append(info.uid)
                }
            }
            guard !batch.isEmpty else { continue }
            let messages = try await connection.uidFetchMessages(batch.sorted())
            var ids: [Int64] = []
            var stored = 0
            for message in messages {
                let outcome = try await receive(message.raw, mailboxUid: String(message.uid))
                if outcome.needsProcessing { ids.append(outcome.inboundId) }
                if case .stored = outcome { stored += 1 }
            }
            // Counted once, when stored: a session that fails after this point re-fetches the mail as
            // pending or duplicate, which is not new mail.
            await countStored(stored)
            // Only now that every message of the batch is durably stored may the mailbox know. Stored is
            // stored: the router gets the rows whatever the mailbox answers, since a STORE the server applied
            // but whose answer was lost leaves nothing to fetch again.
            do {
                try await connection.uidStore(messages.map(\.uid), adding: ["\\Seen"])
            } catch let error as MailClientError where error.code == .commandRejected {
                // A NO leaves the session usable: a mailbox that refuses \Seen (read-only, or an ACL
                // without the right) must not hold back the mail in the batches after this one.
                refusal = refusal ?? error
            } catch {
                for id in ids { await router.submit(id) }
                throw error
            }
            for id in ids {
                await router.submit(id)
            }
        }
        if let refusal { throw refusal }
        try await logSkipped(connection, uidValidity: uidValidity)
    }

    /// Adds newly stored mail to today's count on the status board.
    private func countStored(_ count: Int) async {
        guard count > 0 else { return }
        await statusBoard.countProcessed(channelId, address: channel.address, count: count)
    }

    /// The largest message fetched: the IMAP literal and POP3 body limits of MailClients (64 MiB),
    /// less room for protocol overhead.
    public static let defaultLargestMessage = (64 << 20) - (64 << 10)

    private func logTooLarge(uid: String, size: Int) async throws {
        try await store.recordMailboxEvent(
            channelId: channelId, mailboxUid: uid, from: nil, subject: nil, outcome: .skipped,
            detail:
                "message of \(size / (1 << 20)) MB is larger than postdesk fetches (\(self.largestMessage / (1 << 20)) MB); it was left in the mailbox untouched"
        )
    }

    /// Stores one fetched message in one transaction (ServiceDesk keys it and logs a duplicate);
    /// whatever the outcome, the mail is then stored byte for byte, so it may be flagged or deleted.
    /// A store error is transient for the mailbox: the session ends and retries with backoff.
    private func receive(_ raw: [UInt8], mailboxUid: String) async throws -> ReceiveOutcome {
        do {
            return try await store.receive(channelId: channelId, raw: raw, mailboxUid: mailboxUid)
        } catch {
            throw EmailChannelError(.storage, "cannot store a fetched mail; it stays in the mailbox", underlying: error)
        }
    }

    /// Messages above the watermark that someone marked read before postdesk fetched them are not
    /// processed (the seed's rule), but never silently: each is logged once as skipped, so that
    /// the admin can mark it unread to have it imported.
    private func logSkipped(_ connection: IMAPConnection, uidValidity: UInt32) async throws {
        guard let linkedValidity = channel.uidValidity, linkedValidity == Int64(uidValidity),
            let watermark = channel.uidNextAtLink
        else { return }
        let floor = max(UInt32(clamping: max(watermark, 1)), examinedThrough &+ 1)
        let seen = try await connection.uidSearch("UID \(floor):* SEEN UNDELETED").filter { $0 >= floor }
        guard let highest = seen.max() else { return }
        let known = try await store.knownMailboxUIDs(channelId: channelId, among: seen.map(String.init))
        let unknown = seen.filter { !known.contains(String($0)) }.sorted()
        // Headers only: a large message read elsewhere must not break every session.
        for batch in unknown.chunked(into: 50) {
            for message in try await connection.uidFetchHeaders(batch) {
                let headers = MailParser.parseHeaderSection(message.raw).mail
                try await store.recordMailboxEvent(
                    channelId: channelId, mailboxUid: String(message.uid), from: headers.from.first?.address,
                    subject: headers.subject, outcome: .skipped,
                    detail: "already read in the mailbox before postdesk fetched it; mark it unread to import it")
            }
        }
        examinedThrough = max(examinedThrough, highest)
    }

    /// POP3 (DESIGN.md §1): messages present at link time (their UIDLs) are left alone; every
    /// other message is stored, then DELEted, and the QUIT that commits the deletions (RFC 1939
    /// §6) is sent only after all of them are stored. One short session per poll.
    private func pop3Session() async throws {
        let linked = Set(channel.pop3LinkedUIDLs ?? [])
        let pollInterval = max(self.pollInterval, backoff.provider.minimumPollInterval)
        while !Task.isCancelled {
            await report(state: .fetching, detail: nil)
            // Read anew at each login: an OAuth 2 token may have been refreshed since.
            let credentials = try await MailboxCredentials.resolve(
                username: channel.username, secret: runnable.password, method: channel.authMethod)
            var ids: [Int64] = []
            var undeletable: [String] = []
            do {
                try await pop3Cycle(credentials: credentials, linked: linked, ids: &ids, undeletable: &undeletable)
            } catch {
                // Stored is stored: a QUIT the server carried out but whose answer was lost leaves nothing to
                // fetch again, so the router gets the rows whatever became of the session.
                for id in ids { await router.submit(id) }
                throw error
            }
            failures = 0
            var detail = "POP3, polling every \(pollInterval)"
            if let refusal = undeletable.first {
                detail +=
                    "; the server refused to delete \(undeletable.count) stored message(s), which stay on the server and are fetched again (never taken twice); it said: \"\(refusal)\""
            }
            await statusBoard.update(channelId, address: channel.address) { [detail] status in
                status.lastSuccessAt = Date()
                status.state = .idle
                status.detail = detail
            }
            for id in ids { await router.submit(id) }
            try await clock.sleep(for: pollInterval)
        }
    }

    /// One POP3 session: every message not present at link is stored, then DELEted; QUIT commits the
    /// deletions. `ids` collects the stored rows to hand to the router, `undeletable` the server's words
    /// for each DELE it refused.
    private func pop3Cycle(
        credentials: MailCredentials, linked: Set<String>, ids: inout [Int64], undeletable: inout [String]
    ) async throws {
        try await POP3Client.withConnection(to: endpoint, logger: logger) { pop3 in
            try await pop3.login(credentials)
            // STAT first (RFC 1939 §5): an empty mailbox needs no UIDL listing.
            guard try await pop3.stat().count > 0 else {
                try await pop3.quit()
                return
            }
            let sizes = Dictionary(
                try await pop3.list().map { ($0.number, $0.size) }, uniquingKeysWith: { a, _ in a })
            for entry in try await pop3.uidl() where !linked.contains(entry.uid) {
                if let size = sizes[entry.number], size > self.largestMessage {
                    // Left on the server (never DELEted) and logged, so it cannot block the mailbox.
                    try await self.logTooLarge(uid: entry.uid, size: size)
                    continue
                }
                let raw = try await pop3.retrieve(entry.number)
                let outcome = try await self.receive(raw, mailboxUid: entry.uid)
                if outcome.needsProcessing { ids.append(outcome.inboundId) }
                if case .stored = outcome { await self.countStored(1) }
                // Stored byte for byte (now or before): only then may the server delete it.
                do {
                    try await pop3.delete(entry.number)
                } catch let error as MailClientError where error.code == .commandRejected {
                    // RFC 1939 §5: -ERR to DELE leaves the message unmarked and the session usable. It
                    // is stored, so the next poll takes it as a duplicate and tries again; it must not
                    // hold back the mail after it, nor the deletions QUIT commits.
                    undeletable.append(error.serverText ?? error.message)
                    self.logger.warning(
                        "the POP3 server refused to delete a stored message",
                        metadata: ["error": "\(error)", "pop3.uidl": "\(entry.uid)"])
                }
            }
            try await pop3.quit()
        }
    }

    /// UIDs of unread, undeleted mail that arrived after linking. Normally `UID >= UIDNEXT at
    /// link`; after a UIDVALIDITY change (RFC 3501 §2.3.1.1) those numbers mean nothing, so it
    /// falls back to INTERNALDATE after the link time.
    private func newUIDs(_ connection: IMAPConnection, uidValidity: UInt32) async throws -> [UInt32] {
        if let linkedValidity = channel.uidValidity, linkedValidity == Int64(uidValidity),
            let watermark = channel.uidNextAtLink
        {
            let floor = UInt32(clamping: max(watermark, 1))
            // RFC 3501 §6.4.8: "n:*" always includes the highest UID, even below n: filter again.
            return try await connection.uidSearch("UID \(floor):* UNSEEN UNDELETED").filter { $0 >= floor }.sorted()
        }
        let since = Self.imapDate(channel.linkedAt)
        let candidates = try await connection.uidSearch("SINCE \(since) UNSEEN UNDELETED")
        guard !candidates.isEmpty else { return [] }
        // INTERNALDATE has whole seconds (RFC 3501 §9 date-time): compare from the start of the
        // second of linking, so a mail delivered in that very second is not lost.
        let linkedAt = Date(timeIntervalSince1970: channel.linkedAt.timeIntervalSince1970.rounded(.down))
        let infos = try await connection.uidFetchInfo(candidates.map(String.init).joined(separator: ","))
        return infos.filter { info in (info.internalDate ?? .distantPast) >= linkedAt }.map { $0.uid }.sorted()
    }

    /// RFC 3501 §9 `date` for SEARCH SINCE: `d-Mon-yyyy`, in UTC, one day early so that time
    /// zones never hide a message; INTERNALDATE then decides exactly.
    static func imapDate(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let day = calendar.dateComponents([.year, .month, .day], from: date.addingTimeInterval(-86_400))
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let month = months[max(0, min(11, (day.month ?? 1) - 1))]
        return "\(day.day ?? 1)-\(month)-\(day.year ?? 1970)"
    }
}

extension Array {
    func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
