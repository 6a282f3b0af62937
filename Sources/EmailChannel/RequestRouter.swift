import AsyncAlgorithms
import Foundation
import Logging
import MailMessage
import ServiceDesk
import ServiceLifecycle

/// Turns stored inbound mail into requests and comments: reads each mail once (`MailReading`, the
/// reading `postdesk inspect` shows) and has the store decide and record its fate. Mailbox actors hand
/// it the ids of the rows of each batch they stored; at start, and every `sweepInterval`, it processes
/// whatever is stored but not processed yet. A batch is claimed in one transaction, read in parallel off
/// the router (at most `parallelism` readings at once, each under the watchdog), then decided in order
/// and recorded in one transaction, each mail exactly as it would be alone. A mail that fails or hangs
/// is counted in the store and quarantined after `IntakePolicy.maxAttempts`, and intake carries on.
public actor RequestRouter: Service {
    private let store: DeskStore
    private let inbox: AsyncChannel<[Int64]>
    private let logger: Logger
    private let parseOptions: MailParser.Options
    private let policy: IntakePolicy
    private let processingTimeout: Duration
    private let sweepInterval: Duration
    private let parallelism: Int
    private let batchLimit: Int
    /// Rung when a batch made requests or comments: an acknowledgement or an agent's answer by mail may wait in
    /// the outbox, and should not wait for the notifier's next poll.
    private let notifier: Notifier?
    /// The metrics of intake; mailbox actors and the LMTP intake fed by this router record into them too.
    public nonisolated let metrics: PostdeskMetrics

    /// A router over `store`. `parallelism` bounds the readings running at once (default: the cores);
    /// `batchLimit` the mails decided in one transaction.
    public init(
        store: DeskStore, parseOptions: MailParser.Options = .init(), policy: IntakePolicy = .init(),
        processingTimeout: Duration = .seconds(60), sweepInterval: Duration = .seconds(30),
        parallelism: Int = ProcessInfo.processInfo.activeProcessorCount, batchLimit: Int = 100,
        metrics: PostdeskMetrics = PostdeskMetrics(), notifier: Notifier? = nil, logger: Logger
    ) {
        self.metrics = metrics
        self.notifier = notifier
        self.parseOptions = parseOptions
        self.policy = policy
        self.processingTimeout = processingTimeout
        self.sweepInterval = sweepInterval
        self.parallelism = max(1, parallelism)
        self.batchLimit = max(1, batchLimit)
        self.store = store
        self.inbox = AsyncChannel()
        self.logger = logger
    }

    /// Submitted batches waiting for the router at most; a submitter waits while this many do (backpressure).
    static let queuedBatches = 64

    /// Hands a stored inbound row to the router; suspends while `queuedBatches` batches wait already.
    public nonisolated func submit(_ inboundId: Int64) async {
        await submit([inboundId])
    }

    /// Hands the stored rows of one batch to the router, to be processed together in this order; suspends
    /// while `queuedBatches` batches wait already (backpressure).
    public nonisolated func submit(_ inboundIds: [Int64]) async {
        guard !inboundIds.isEmpty else { return }
        await inbox.send(inboundIds)
    }

    public func run() async throws {
        try await drainPending()
        let sweeps = AsyncTimerSequence(interval: sweepInterval, clock: .continuous).map { _ in [Int64]?.none }
        // A bounded queue of submitted batches: a mailbox hands its batch over and fetches on (its fetch slot free
        // for others) while the router works on earlier batches; past `queuedBatches` submitters wait.
        let submitted = inbox.buffer(policy: .bounded(Self.queuedBatches)).map { [Int64]?.some($0) }
        await cancelWhenGracefulShutdown {
            for await next in merge(submitted, sweeps) {
                if let ids = next {
                    await self.process(ids)
                } else {
                    try? await self.drainPending()
                }
            }
        }
        inbox.finish()
    }

    /// Processes every stored row that has no outcome yet, oldest first, each once per call.
    public func drainPending() async throws {
        var after: Int64 = 0
        while !Task.isCancelled {
            let batch = try await store.pendingInboundIds(after: after, limit: batchLimit)
            guard let last = batch.last else { return }
            await process(batch)
            after = last
        }
    }

    /// Processes rows in batches of at most `batchLimit`, in order.
    private func process(_ inboundIds: [Int64]) async {
        for first in stride(from: 0, to: inboundIds.count, by: batchLimit) {
            await processBatch(Array(inboundIds[first..<min(first + batchLimit, inboundIds.count)]))
        }
    }

    private func processBatch(_ inboundIds: [Int64]) async {
        let claimed: [InboundMail]
        do {
            claimed = try await store.claimForProcessing(inboundIds: inboundIds, policy: policy)
        } catch {
            // The rows stay pending; the next sweep tries again.
            logger.error(
                "cannot claim inbound mail", metadata: ["inbound.ids": "\(inboundIds.count)", "error": "\(error)"])
            return
        }
        let readings = await read(claimed)
        var batch: [ReadInbound] = []
        var failures: [(mail: InboundMail, reason: String)] = []
        for (mail, reading) in zip(claimed, readings) {
            guard let id = mail.id else { continue }
            if let reading {
                batch.append(ReadInbound(inboundId: id, reading: reading))
            } else {
                failures.append((mail, "\(RouterError.timedOut(processingTimeout))"))
            }
        }
        let byId = Dictionary(
            claimed.compactMap { mail in mail.id.map { ($0, mail) } }, uniquingKeysWith: { a, _ in a })
        var changedRequests = false
        for (item, result) in zip(batch, await store.process(batch, policy: policy)) {
            switch result {
            case .success(let disposition):
                changedRequests = changedRequests || disposition.requestKey != nil
                recordMetrics(disposition, receivedAt: byId[item.inboundId]?.fetchedAt)
                logger.info(
                    "inbound mail processed",
                    metadata: [
                        "inbound.id": "\(item.inboundId)", "channel.id": "\(byId[item.inboundId]?.channelId ?? 0)",
                        "outcome": "\(disposition.outcome.rawValue)",
                        "request.key": "\(disposition.requestKey ?? "-")",
                    ])
            case .failure(let error):
                if let mail = byId[item.inboundId] { failures.append((mail, "\(error)")) }
            }
        }
        if changedRequests { await notifier?.ring() }
        for failure in failures {
            await recordFailure(failure.mail, reason: failure.reason)
        }
    }

    /// Counts the outcome and, for a request or comment, the time since postdesk received the mail.
    private func recordMetrics(_ disposition: Disposition, receivedAt: Date?) {
        metrics.count(disposition.outcome)
        guard disposition.requestKey != nil, let receivedAt else { return }
        let seconds = max(Date().timeIntervalSince(receivedAt), 0)
        metrics.intakeLatency.recordNanoseconds(Int64(min(seconds, 1e9) * 1e9))
    }

    /// Reads the mails in parallel, at most `parallelism` at once, each under the watchdog; nil for a
    /// reading the watchdog gave up on. The answers are in the order of `mails`.
    private func read(_ mails: [InboundMail]) async -> [MailReading?] {
        let options = parseOptions
        let timeout = processingTimeout
        let width = parallelism
        let raws = mails.map(\.raw)
        return await Watchdog.map(count: raws.count, width: width, timeout: timeout) { index in
            MailReading(raw: [UInt8](raws[index]), options: options)
        }
    }

    /// The mail stays stored with the reason; it is retried until its attempts are used up.
    private func recordFailure(_ mail: InboundMail, reason: String) async {
        let id = mail.id ?? 0
        metrics.inboundAttemptFailures.increment()
        // The store quarantines the mail (outcome failed) when this was its last attempt.
        if mail.attempts >= policy.maxAttempts { metrics.count(.failed) }
        logger.error(
            "inbound mail failed",
            metadata: ["inbound.id": "\(id)", "attempt": "\(mail.attempts)", "error": "\(reason)"])
        do {
            try await store.recordAttemptFailure(inboundId: id, reason: reason, policy: policy)
        } catch {
            logger.error("cannot record the failure", metadata: ["inbound.id": "\(id)", "error": "\(error)"])
        }
    }
}

/// Why the router gave up on one attempt.
enum RouterError: Error, CustomStringConvertible {
    case timedOut(Duration)

    var description: String {
        switch self {
        case .timedOut(let limit): "reading the mail took longer than \(limit) (watchdog)"
        }
    }
}
