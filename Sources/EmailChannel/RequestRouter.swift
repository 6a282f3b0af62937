import AsyncAlgorithms
import Foundation
import Logging
import MailMessage
import ServiceDesk
import ServiceLifecycle

/// Turns stored inbound mail into requests and comments: reads each mail once (`MailReading`, the
/// reading `postdesk inspect` shows) and has the store decide and record its fate in one
/// transaction. Mailbox actors hand it the ids of rows they stored; at start, and every
/// `sweepInterval`, it processes whatever is stored but not processed yet. A mail that fails or
/// hangs is counted in the store and quarantined after `IntakePolicy.maxAttempts`, and intake
/// carries on.
public actor RequestRouter: Service {
    private let store: DeskStore
    private let inbox: AsyncChannel<Int64>
    private let logger: Logger
    private let parseOptions: MailParser.Options
    private let policy: IntakePolicy
    private let processingTimeout: Duration
    private let sweepInterval: Duration

    public init(
        store: DeskStore, parseOptions: MailParser.Options = .init(), policy: IntakePolicy = .init(),
        processingTimeout: Duration = .seconds(60), sweepInterval: Duration = .seconds(30), logger: Logger
    ) {
        self.parseOptions = parseOptions
        self.policy = policy
        self.processingTimeout = processingTimeout
        self.sweepInterval = sweepInterval
        self.store = store
        self.inbox = AsyncChannel()
        self.logger = logger
    }

    /// Hands a stored inbound row to the router; suspends while the router is busy (backpressure).
    public nonisolated func submit(_ inboundId: Int64) async {
        await inbox.send(inboundId)
    }

    public func run() async throws {
        try await drainPending()
        let sweeps = AsyncTimerSequence(interval: sweepInterval, clock: .continuous).map { _ in Int64?.none }
        let submitted = inbox.map { Int64?.some($0) }
        await cancelWhenGracefulShutdown {
            for await next in merge(submitted, sweeps) {
                if let id = next {
                    await self.process(id)
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
            let batch = try await store.pendingInbound(after: after, limit: 50)
            guard let last = batch.last?.id else { return }
            for mail in batch {
                if let id = mail.id { await process(id) }
            }
            after = last
        }
    }

    private func process(_ inboundId: Int64) async {
        let mail: InboundMail
        do {
            guard let claimed = try await store.claimForProcessing(inboundId: inboundId, policy: policy) else {
                return
            }
            mail = claimed
        } catch {
            // The row stays pending; the next sweep tries again.
            logger.error("cannot claim inbound mail", metadata: ["inbound.id": "\(inboundId)", "error": "\(error)"])
            return
        }
        do {
            let options = parseOptions
            let raw = [UInt8](mail.raw)
            guard
                let reading = await Watchdog.run(
                    timeout: processingTimeout, { MailReading(raw: raw, options: options) })
            else {
                throw RouterError.timedOut(processingTimeout)
            }
            let disposition = try await store.process(reading, inboundId: inboundId, policy: policy)
            logger.info(
                "inbound mail processed",
                metadata: [
                    "inbound.id": "\(inboundId)", "channel.id": "\(mail.channelId)",
                    "outcome": "\(disposition.outcome.rawValue)", "request.key": "\(disposition.requestKey ?? "-")",
                ])
        } catch {
            // The mail stays stored with the reason; it is retried until its attempts are used up.
            logger.error(
                "inbound mail failed",
                metadata: ["inbound.id": "\(inboundId)", "attempt": "\(mail.attempts)", "error": "\(error)"])
            do {
                try await store.recordAttemptFailure(inboundId: inboundId, reason: "\(error)", policy: policy)
            } catch {
                logger.error(
                    "cannot record the failure", metadata: ["inbound.id": "\(inboundId)", "error": "\(error)"])
            }
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
