import Foundation
import Logging
import MailClients
import MailMessage
import ServiceDesk

/// Owns one linked mailbox: its own IMAP session, IDLE where offered (else a poll every
/// minute), and backoff on failures. It stores each new mail before it marks it \Seen, then
/// hands the stored row to the router (DESIGN.md §2, nothing lost, nothing twice).
public actor MailboxActor {
    /// The channel as the store had it, and the watermark this actor moved since (after a UIDVALIDITY change).
    private var runnable: RunnableChannel
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
    private let fetchLimiter: FetchLimiter?
    private let fetchBatchSize: Int
    /// This mailbox's series: its protocol and provider, never its address.
    private let metrics: PostdeskMetrics.Mailbox?
    private let intakeMetrics: PostdeskMetrics
    private var failures = 0
    /// Gives the access token of a channel that holds an OAuth 2.0 grant; nil: such a channel cannot log in.
    private let tokenKeeper: OAuthTokenKeeper?
    /// The server refused the last access token: the next login refreshes first, once, before the channel is
    /// taken to need attention.
    private var refreshBeforeLogin = false
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
        fetchLimiter: FetchLimiter? = nil,
        fetchBatchSize: Int = MailboxActor.defaultFetchBatchSize,
        metrics: PostdeskMetrics? = nil,
        tokenKeeper: OAuthTokenKeeper? = nil,
        logger: Logger
    ) {
        self.tokenKeeper = tokenKeeper
        // The router's metrics unless told otherwise: the supervisor makes mailboxes without naming them.
        let intakeMetrics = metrics ?? router.metrics
        self.intakeMetrics = intakeMetrics
        self.metrics = intakeMetrics.mailbox(protocol: channel.channel.protocol, provider: channel.channel.provider)
        self.fetchLimiter = fetchLimiter
        self.fetchBatchSize = max(1, fetchBatchSize)
        self.largestMessage = largestMessage
        self.commandTimeout = commandTimeout
        self.backoff = MailboxBackoff(
            provider: ProviderProfile.of(channel.channel.provider, host: channel.channel.host))
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
            } catch let error as EmailChannelError where error.code == .grantRefused {
                if Task.isCancelled { break }
                // The provider refused the grant: only a new sign-in helps, and `channel reauthorize` restarts this
                // mailbox with it.
                metrics?.failed(.init(error.code))
                await report(state: .needsAttention, detail: error.message, error: error)
                logger.warning("mailbox needs a new OAuth 2.0 sign-in", metadata: ["error": "\(error)"])
                try? await clock.sleep(for: .seconds(365 * 24 * 3600))
            } catch let error as EmailChannelError {
                if Task.isCancelled { break }
                // A credential that cannot be read (token file, token command) or a store that refused a
                // write: retried with backoff, and shown, never parked for good.
                failures += 1
                let delay = backoff.transientDelay(attempt: failures)
                let retryAt = Date().addingTimeInterval(delay.timeInterval)
                let state: MailboxState = error.code == .credentialUnavailable ? .needsAttention : .backingOff
                metrics?.failed(.init(error.code))
                await report(state: state, detail: error.message, error: error, retryAt: retryAt)
                logger.warning("mailbox session failed", metadata: ["error": "\(error)", "retry.in": "\(delay)"])
                try? await clock.sleep(for: delay)
            } catch {
                if Task.isCancelled { break }
                let clientError =
                    error as? MailClientError ?? MailClientError(.connectionClosed, "\(error)", underlying: nil)
                if channel.authMethod == .oauth2App, clientError.code == .authenticationFailed, !refreshBeforeLogin {
                    // A token refused before its time (revoked early, issued before a scope change): one new token
                    // is tried at once before anyone is asked to act.
                    refreshBeforeLogin = true
                    logger.info(
                        "the server refused the access token; refreshing it", metadata: ["error": "\(clientError)"])
                    continue
                }
                let diagnosis = MailboxDiagnosis.diagnose(clientError, oauth: channel.authMethod == .oauth2App)
                metrics?.failed(.init(diagnosis.cause))
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

    /// The credentials of this session's login: for a channel holding an OAuth 2.0 grant, a token from the keeper
    /// (refreshed first when the server refused the last one).
    private func loginCredentials() async throws -> MailCredentials {
        let oauth = tokenKeeper.map {
            OAuthLogin(keeper: $0, owner: .channel(channelId), forceRefresh: refreshBeforeLogin)
        }
        return try await MailboxCredentials.resolve(
            username: channel.username, secret: runnable.password, method: channel.authMethod, oauth: oauth)
    }

    /// The channel's server, with this actor's deadline for every command (and the greeting).
    var endpoint: MailServerEndpoint {
        var endpoint = MailServerEndpoint(channel: channel)
        endpoint.commandTimeout = commandTimeout
        return endpoint
    }

    private func imapSession() async throws {
        let credentials = try await loginCredentials()
        try await IMAPClient.withConnection(to: endpoint, logger: logger) { connection in
            try await connection.login(credentials)
            self.refreshBeforeLogin = false
            let status = try await connection.select("INBOX")
            let canIdle = connection.capabilities.contains("IDLE")
            let pollInterval = max(self.pollInterval, self.backoff.provider.minimumPollInterval)
            let detail = canIdle ? "IMAP IDLE" : "polling every \(pollInterval)"
            while !Task.isCancelled {
                // A fetch slot only while fetching: an IDLE or polling mailbox holds none.
                try await self.inFetchSlot {
                    await self.report(state: .fetching, detail: nil)
                    try await self.fetchNewMail(connection, mailbox: status)
                }
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

    /// Messages per body FETCH: a batch is stored in one transaction, and held in memory meanwhile.
    public static let defaultFetchBatchSize = 100
    /// Bytes per body FETCH, by the sizes the server announced (a larger message is a batch of its own).
    static let fetchBatchBytes = 8 << 20

    /// Runs `body` in a slot of the shared fetch limiter, if there is one.
    private func inFetchSlot(_ body: () async throws -> Void) async throws {
        guard let fetchLimiter else { return try await body() }
        try await fetchLimiter.withSlot(body)
    }

    /// Fetches, stores and marks \Seen every new message: one size FETCH for all of them, then body FETCHes of
    /// up to `fetchBatchSize` messages, each batch stored in one transaction while the next batch is fetched, and
    /// flagged only once it is stored. A refused UID STORE fails the cycle (it backs off with the server's words),
    /// but only after the later batches are stored too.
    private func fetchNewMail(_ connection: IMAPConnection, mailbox: IMAPMailboxStatus) async throws {
        let uidValidity = mailbox.uidValidity
        let byArrival = !watermarkHolds(uidValidity)
        let uids = try await newUIDs(connection, uidValidity: uidValidity)
        var batches: [[UInt32]] = []
        var current: [UInt32] = []
        var bytes = 0
        // Sizes first, a thousand UIDs per command: a message too large for the clients' hard limits (the
        // literal limit) would fail every session and block the mailbox, so it is left unread and logged instead.
        // The size cannot come in the body FETCH itself: the frame decoder refuses the literal before any of it.
        for candidates in uids.chunked(into: 1000) {
            for info in try await connection.uidFetchInfo(candidates) {
                let size = info.size ?? 0
                if size > self.largestMessage {
                    try await logTooLarge(uid: String(info.uid), size: size)
                    continue
                }
                if !current.isEmpty && (current.count >= fetchBatchSize || bytes + size > Self.fetchBatchBytes) {
                    batches.append(current)
                    current = []
                    bytes = 0
                }
                current.append(info.uid)
                bytes += size
            }
        }
        if !current.isEmpty { batches.append(current) }
        var refusal: MailClientError?
        // What this cycle stored and flagged: known mail, which the search for skipped mail need not return.
        var flagged: [UInt32] = []
        let store = self.store
        let channelId = self.channelId
        try await withThrowingTaskGroup(of: StoredBatch.self) { group in
            // At most one batch is being stored while the next one is fetched.
            var storing = false
            for batch in batches {
                let messages: [IMAPFetchedMessage]
                do {
                    messages = try await connection.uidFetchMessages(batch)
                } catch {
                    // The batch before is stored, or not: either way nothing of it is flagged, and what is stored
                    // goes to the router.
                    if storing, let stored = try? await group.next() {
                        await countStored(stored)
                        await router.submit(stored.toProcess)
                    }
                    throw error
                }
                if storing, let stored = try await group.next() {
                    try await flag(stored, connection, refusal: &refusal, flagged: &flagged)
                }
                guard !messages.isEmpty else {
                    storing = false
                    continue
                }
                let mails = messages.map { FetchedMail(raw: $0.raw, mailboxUid: String($0.uid)) }
                let uids = messages.map(\.uid)
                group.addTask { try await Self.receive(mails, uids: uids, channelId: channelId, store: store) }
                storing = true
            }
            if storing, let stored = try await group.next() {
                try await flag(stored, connection, refusal: &refusal, flagged: &flagged)
            }
        }
        if let refusal { throw refusal }
        // The renumbered mailbox's mail after linking is stored and flagged, all of it below the UIDNEXT this session
        // selected: from here on UIDs count again, from that one.
        if byArrival, let uidNext = mailbox.uidNext {
            try await moveWatermark(uidValidity: uidValidity, uidNext: uidNext)
        }
        try await logSkipped(connection, uidValidity: uidValidity, flagged: flagged)
    }

    /// Whether the channel's watermark (UIDNEXT at linking) still counts: the mailbox has the UIDVALIDITY it had then.
    private func watermarkHolds(_ uidValidity: UInt32) -> Bool {
        channel.uidValidity == Int64(uidValidity) && channel.uidNextAtLink != nil
    }

    /// Saves a watermark under a new UIDVALIDITY, and uses it from the next cycle on.
    private func moveWatermark(uidValidity: UInt32, uidNext: UInt32) async throws {
        let previous = channel.uidValidity.map(String.init) ?? "none"
        do {
            try await store.moveWatermark(channelId: channelId, uidValidity: uidValidity, uidNext: uidNext)
        } catch {
            throw EmailChannelError(.storage, "cannot save the mailbox's new UIDVALIDITY", underlying: error)
        }
        runnable.channel.uidValidity = Int64(uidValidity)
        runnable.channel.uidNextAtLink = Int64(uidNext)
        examinedThrough = 0
        logger.notice(
            """
            the mailbox was renumbered (UIDVALIDITY changed); its mail since linking was read by arrival date, and \
            from now on mail from UID \(uidNext) on is new
            """,
            metadata: ["imap.uidvalidity.before": "\(previous)", "imap.uidvalidity": "\(uidValidity)"])
    }

    /// A batch of fetched messages, stored.
    private struct StoredBatch: Sendable {
        var uids: [UInt32]
        /// The rows the router is to process.
        var toProcess: [Int64]
        /// How many were new mail (not a re-fetch).
        var newCount: Int
        /// How many were the same mail again (logged as duplicates).
        var duplicateCount = 0
    }

    /// Stores fetched messages in one transaction (ServiceDesk keys them and logs duplicates); whatever the
    /// outcomes, the mails are then stored byte for byte, so they may be flagged or deleted. A store error is
    /// transient for the mailbox: the session ends and retries with backoff.
    private static func receive(_ mails: [FetchedMail], uids: [UInt32] = [], channelId: Int64, store: DeskStore)
        async throws -> StoredBatch
    {
        let outcomes: [ReceiveOutcome]
        do {
            outcomes = try await store.receive(channelId: channelId, messages: mails)
        } catch {
            throw EmailChannelError(.storage, "cannot store a fetched mail; it stays in the mailbox", underlying: error)
        }
        return StoredBatch(
            uids: uids, toProcess: outcomes.filter(\.needsProcessing).map(\.inboundId),
            newCount: outcomes.filter { if case .stored = $0 { true } else { false } }.count,
            duplicateCount: outcomes.filter { if case .duplicate = $0 { true } else { false } }.count)
    }

    /// Marks a stored batch \Seen and hands its rows to the router. Only now that every message of the batch is
    /// durably stored may the mailbox know. Stored is stored: the router gets the rows whatever the mailbox
    /// answers, since a STORE the server applied but whose answer was lost leaves nothing to fetch again.
    private func flag(
        _ stored: StoredBatch, _ connection: IMAPConnection, refusal: inout MailClientError?,
        flagged: inout [UInt32]
    ) async throws {
        // Counted once, when stored: a session that fails after this point re-fetches the mail as
        // pending or duplicate, which is not new mail.
        await countStored(stored)
        do {
            try await connection.uidStore(stored.uids, adding: ["\\Seen"])
            flagged += stored.uids
        } catch let error as MailClientError where error.code == .commandRejected {
            // A NO leaves the session usable: a mailbox that refuses \Seen (read-only, or an ACL
            // without the right) must not hold back the mail in the batches after this one.
            refusal = refusal ?? error
        } catch {
            await router.submit(stored.toProcess)
            throw error
        }
        await router.submit(stored.toProcess)
    }

    /// Adds newly stored mail to today's count on the status board, and to the metrics with the duplicates.
    private func countStored(_ stored: StoredBatch) async {
        intakeMetrics.count(.duplicate, stored.duplicateCount)
        guard stored.newCount > 0 else { return }
        metrics?.fetched.increment(by: stored.newCount)
        await statusBoard.countProcessed(channelId, address: channel.address, count: stored.newCount)
    }

    /// The largest message fetched: the IMAP literal and POP3 body limits of MailClients (64 MiB),
    /// less room for protocol overhead.
    public static let defaultLargestMessage = (64 << 20) - (64 << 10)

    private func logTooLarge(uid: String, size: Int) async throws {
        // Counted once per message, as it is logged once (a later session finds it logged).
        let logged = try await store.recordMailboxEvent(
            channelId: channelId, mailboxUid: uid, from: nil, subject: nil, outcome: .skipped,
            detail:
                "message of \(size / (1 << 20)) MB is larger than postdesk fetches (\(self.largestMessage / (1 << 20)) MB); it was left in the mailbox untouched"
        )
        if logged { intakeMetrics.count(.skipped) }
    }

    /// Messages above the watermark that someone marked read before postdesk fetched them are not
    /// processed (the seed's rule), but never silently: each is logged once as skipped, so that
    /// the admin can mark it unread to have it imported.
    /// `flagged` is what this cycle has just stored and flagged \Seen itself: known, so not asked for.
    private func logSkipped(_ connection: IMAPConnection, uidValidity: UInt32, flagged: [UInt32]) async throws {
        guard let linkedValidity = channel.uidValidity, linkedValidity == Int64(uidValidity),
            let watermark = channel.uidNextAtLink
        else { return }
        let floor = max(UInt32(clamping: max(watermark, 1)), examinedThrough &+ 1)
        let ours = Set(flagged)
        let seen = try await connection.uidSearch("UID \(floor):* SEEN UNDELETED", excluding: flagged)
            .filter { $0 >= floor && !ours.contains($0) }
        // Everything up to the highest UID searched is examined now, what this cycle flagged included.
        let examined = max(seen.max() ?? 0, flagged.filter { $0 >= floor }.max() ?? 0)
        guard let highest = seen.max() else {
            examinedThrough = max(examinedThrough, examined)
            return
        }
        let known = try await store.knownMailboxUIDs(channelId: channelId, among: seen.map(String.init))
        let unknown = seen.filter { !known.contains(String($0)) }.sorted()
        // Headers only: a large message read elsewhere must not break every session.
        for batch in unknown.chunked(into: 50) {
            for message in try await connection.uidFetchHeaders(batch) {
                let headers = MailParser.parseHeaderSection(message.raw).mail
                let logged = try await store.recordMailboxEvent(
                    channelId: channelId, mailboxUid: String(message.uid), from: headers.from.first?.address,
                    subject: headers.subject, outcome: .skipped,
                    detail: "already read in the mailbox before postdesk fetched it; mark it unread to import it")
                if logged { intakeMetrics.count(.skipped) }
            }
        }
        examinedThrough = max(examinedThrough, highest, examined)
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
            let credentials = try await loginCredentials()
            var ids: [Int64] = []
            var undeletable: [String] = []
            do {
                try await inFetchSlot {
                    try await pop3Cycle(credentials: credentials, linked: linked, ids: &ids, undeletable: &undeletable)
                }
            } catch {
                // Stored is stored: a QUIT the server carried out but whose answer was lost leaves nothing to
                // fetch again, so the router gets the rows whatever became of the session.
                await router.submit(ids)
                throw error
            }
            failures = 0
            refreshBeforeLogin = false
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
            await router.submit(ids)
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
            // Retrieved in batches (by count and bytes), each stored in one transaction, then DELEted.
            var batch: [(number: Int, mail: FetchedMail)] = []
            var bytes = 0
            for entry in try await pop3.uidl() where !linked.contains(entry.uid) {
                let size = sizes[entry.number] ?? 0
                if size > self.largestMessage {
                    // Left on the server (never DELEted) and logged, so it cannot block the mailbox.
                    try await self.logTooLarge(uid: entry.uid, size: size)
                    continue
                }
                if !batch.isEmpty && (batch.count >= self.fetchBatchSize || bytes + size > Self.fetchBatchBytes) {
                    try await self.storeAndDelete(batch, pop3, ids: &ids, undeletable: &undeletable)
                    batch = []
                    bytes = 0
                }
                do {
                    batch.append(
                        (entry.number, FetchedMail(raw: try await pop3.retrieve(entry.number), mailboxUid: entry.uid)))
                } catch {
                    // What was retrieved is stored before the session ends; without DELE and QUIT it stays on the
                    // server, and the next session takes it as pending.
                    if !batch.isEmpty,
                        let stored = try? await Self.receive(
                            batch.map(\.mail), channelId: self.channelId, store: self.store)
                    {
                        ids += stored.toProcess
                        await self.countStored(stored)
                    }
                    throw error
                }
                bytes += size
            }
            if !batch.isEmpty { try await self.storeAndDelete(batch, pop3, ids: &ids, undeletable: &undeletable) }
            try await pop3.quit()
        }
    }

    /// Stores retrieved POP3 messages in one transaction; only then DELEs each of them (stored byte for byte, now or
    /// before). A DELE refused leaves the session usable (RFC 1939 §5): the message is stored, so the next poll takes
    /// it as a duplicate and tries again; it must not hold back the mail after it, nor the deletions QUIT commits.
    private func storeAndDelete(
        _ batch: [(number: Int, mail: FetchedMail)], _ pop3: POP3Connection, ids: inout [Int64],
        undeletable: inout [String]
    ) async throws {
        let stored = try await Self.receive(batch.map(\.mail), channelId: channelId, store: store)
        ids += stored.toProcess
        await countStored(stored)
        for (number, mail) in batch {
            do {
                try await pop3.delete(number)
            } catch let error as MailClientError where error.code == .commandRejected {
                undeletable.append(error.serverText ?? error.message)
                logger.warning(
                    "the POP3 server refused to delete a stored message",
                    metadata: ["error": "\(error)", "pop3.uidl": "\(mail.mailboxUid ?? "")"])
            }
        }
    }

    /// UIDs of unread, undeleted mail that arrived after linking. Normally `UID >= UIDNEXT at
    /// link`; after a UIDVALIDITY change (RFC 3501 §2.3.1.1) those numbers mean nothing, so it
    /// falls back to INTERNALDATE after the link time.
    private func newUIDs(_ connection: IMAPConnection, uidValidity: UInt32) async throws -> [UInt32] {
        if watermarkHolds(uidValidity), let watermark = channel.uidNextAtLink {
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
        let infos = try await connection.uidFetchInfo(candidates)
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
