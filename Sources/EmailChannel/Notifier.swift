import Foundation
import Logging
import MailClients
import ServiceDesk
import ServiceLifecycle

/// Empties the outbox through the SMTP relay, all due notifications over one session: each is sent as stored
/// (same bytes, same Message-ID), and each attempt the relay answered is recorded with its reply.
///
/// Two kinds of failure are kept apart:
/// - The relay as a whole (cannot connect, TLS, greeting/EHLO/AUTH refused, our sender refused, 421, timeout):
///   no message's attempt is counted; the outbox is held and the relay is retried with `relayPolicy`, or at once
///   after `retryRelayNow()` (`postdesk smtp set`). `status()` says since when and why, in the relay's words.
/// - One message (a recipient, DATA or the content refused): recorded per message and per refused recipient;
///   the message is sent when one recipient took it, else retried with `policy` (4xx) or failed for good (5xx).
///
/// A delivery the store cannot record is remembered here, never sent again, and its recording retried with
/// `recordingPolicy`.
public actor Notifier: Service {
    private let store: DeskStore
    private let policy: RetryPolicy
    private let relayPolicy: RetryPolicy
    private let recordingPolicy: RetryPolicy
    private let pollInterval: Duration
    private let timeline: NotifierTimeline
    private let doorbell = NotifierDoorbell()
    private let logger: Logger
    private let metrics: PostdeskMetrics
    private let batchSize = 20
    /// Sessions that died during the same message before that message's attempt is counted, so that a message
    /// that makes the relay drop the connection cannot hold the outbox for ever.
    static let interruptionsBeforeCounting = 3

    private var relay = RelayStatus(state: .untried)
    /// Failed relay sessions since the backoff was last reset (by a success or an admin's retry).
    private var relayBackoffAttempt = 0
    /// While the relay fails: when, on the clock, to try it again.
    private var relayRetryAt: Duration?
    /// Deliveries the relay took that the store did not record yet, by outbox id.
    private var unrecorded: [Int64: Delivery] = [:]
    private var recordingFailures = 0
    private var recordingRetryAt: Duration?
    /// The message whose transaction is under way, if the session dies in it.
    private var inFlight: OutboxMessage?
    private var interruptions: [Int64: Int] = [:]

    /// What the relay said when it took a notification.
    private struct Delivery: Sendable {
        var reply: String
        var refused: [String: String]
        var at: Date
    }

    /// How a session ended without an error of its own.
    private enum SessionEnd {
        /// Nothing due is left (or the task was cancelled).
        case drained
        /// The relay refused what every message needs (our sender, or the session with 421).
        case relayRefused(RelayDiagnosis)
        /// The outbox could not be read for the next batch.
        case storeFailed(any Error)
    }

    /// Gives the relay's access token when postdesk holds its OAuth 2.0 grant.
    private let tokenKeeper: OAuthTokenKeeper?

    /// A notifier; `clock` times the relay's backoff, recording retries and the poll (tests step it).
    public init(
        store: DeskStore,
        policy: RetryPolicy = .notification,
        relayPolicy: RetryPolicy = .relay,
        recordingPolicy: RetryPolicy = .recording,
        pollInterval: Duration = .seconds(5),
        clock: any Clock<Duration> = ContinuousClock(),
        metrics: PostdeskMetrics = PostdeskMetrics(),
        tokenKeeper: OAuthTokenKeeper? = nil,
        logger: Logger
    ) {
        self.tokenKeeper = tokenKeeper
        self.metrics = metrics
        self.store = store
        self.policy = policy
        self.relayPolicy = relayPolicy
        self.recordingPolicy = recordingPolicy
        self.pollInterval = pollInterval
        self.timeline = NotifierTimeline(clock)
        self.logger = logger
    }

    /// Tells the notifier that the outbox has a new or newly due row, so it sends now rather than at the next
    /// poll (while the relay fails, it still waits for the relay's next retry).
    public nonisolated func ring() async {
        doorbell.ring(retryRelay: false)
    }

    /// Tells the notifier that the relay's settings changed or an admin wants the outbox retried: it forgets
    /// the relay's backoff and tries at once.
    public nonisolated func retryRelayNow() async {
        doorbell.ring(retryRelay: true)
    }

    /// What the relay is doing, as last seen.
    public func status() -> RelayStatus {
        var status = relay
        status.unrecordedDeliveries = unrecorded.count
        return status
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let wait = await self.pass()
                await self.doorbell.wait(upTo: wait, on: self.timeline)
            }
        }
        // A graceful shutdown (SIGTERM) stops the notifier last, after the admin API, the mailboxes
        // and the router: whatever they left due is sent once more, within `drainDeadline`.
        if !Task.isCancelled { await drain() }
    }

    /// The longest the notifier sends for at shutdown before it gives up; unsent rows stay pending.
    public static let drainDeadline: Duration = .seconds(10)

    /// One last round, cut off at `drainDeadline` (the SMTP calls are cancellable, each with its own deadline).
    func drain() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await self.pass() }
            group.addTask { try? await Task.sleep(for: Self.drainDeadline) }
            await group.next()
            group.cancelAll()
        }
        logger.info("notifier drained for shutdown", metadata: ["outbox.unrecorded": "\(unrecorded.count)"])
    }

    /// One round: record what the store refused before, then send what is due unless the relay is backing off.
    /// Returns how long to wait before the next round (a ring ends the wait early).
    func pass() async -> Duration {
        if doorbell.takeRelayRetry() {
            relayRetryAt = nil
            relayBackoffAttempt = 0
            // The relay may have been set just now: it is not known to be missing any more.
            if relay.state == .notConfigured { relay = RelayStatus(state: .untried) }
        }
        await recordUnrecorded()
        if let retryAt = relayRetryAt, timeline.now() < retryAt { return nextWait() }
        relayRetryAt = nil
        await sendDue()
        return nextWait()
    }

    private func nextWait() -> Duration {
        let now = timeline.now()
        // While the relay fails, a poll would only find the outbox held: wake when its backoff ends.
        var wait = relayRetryAt.map { max($0 - now, .zero) } ?? pollInterval
        if !unrecorded.isEmpty, let retryAt = recordingRetryAt { wait = min(wait, max(retryAt - now, .zero)) }
        return wait
    }

    // MARK: - Sending

    private func sendDue() async {
        let first: [OutboxMessage]
        let cursor: Int64
        let settings: RelaySettings?
        do {
            (first, cursor) = try await dueBatch(after: 0)
            if first.isEmpty { return }
            settings = try await store.relay()
        } catch {
            logger.error("the outbox cannot be read", metadata: ["error": "\(error)"])
            return
        }
        guard let settings else {
            if relay.state != .notConfigured {
                logger.warning("notifications are waiting but no SMTP relay is set (postdesk smtp set)")
                relay = RelayStatus(state: .notConfigured, since: Date(), diagnosis: .notConfigured)
            }
            return
        }
        let end: SessionEnd
        do {
            let credentials = try await settings.credentials(keeper: tokenKeeper)
            end = try await SMTPClient.withConnection(
                to: MailServerEndpoint(relay: settings.settings), credentials: credentials,
                heloName: ehloName(forSender: settings.settings.fromAddress), logger: logger
            ) { smtp in
                try await self.sendAll(first, after: cursor, over: smtp, relaySender: settings.settings.fromAddress)
            }
        } catch {
            await sessionFailed(error)
            return
        }
        switch end {
        case .drained:
            break
        case .relayRefused(let diagnosis):
            relayFailed(diagnosis)
        case .storeFailed(let error):
            logger.error("the outbox cannot be read", metadata: ["error": "\(error)"])
        }
    }

    /// Sends `first` and every further due batch over one session. Throws only when the session fails.
    private func sendAll(
        _ first: [OutboxMessage], after cursor: Int64, over smtp: SMTPConnection, relaySender: String
    ) async throws -> SessionEnd {
        var batch = first
        var cursor = cursor
        var senderAccepted = false
        while !batch.isEmpty {
            for message in batch {
                guard let id = message.id, unrecorded[id] == nil else { continue }
                if Task.isCancelled { return .drained }
                inFlight = message
                let outcome = try await smtp.transaction(
                    [UInt8](message.raw), from: message.envelopeFrom, to: message.recipients)
                inFlight = nil
                interruptions[id] = nil
                switch outcome {
                case .serverClosing(let reply):
                    return .relayRefused(.closing(reply))
                case .senderRefused(let reply)
                where !senderAccepted && message.envelopeFrom == relaySender && !Self.isSizeRefusal(reply):
                    // The relay's own sender, refused before any message got further: it is refused for all.
                    return .relayRefused(.senderRefused(reply, sender: relaySender))
                case .senderRefused:
                    break
                default:
                    senderAccepted = true
                }
                relayWorks()
                await record(outcome, for: message)
            }
            do {
                (batch, cursor) = try await dueBatch(after: cursor)
            } catch {
                return .storeFailed(error)
            }
        }
        return .drained
    }

    /// The next due notifications after `cursor` that are not already delivered, and the new cursor; linear in
    /// the rows read.
    private func dueBatch(after cursor: Int64) async throws -> ([OutboxMessage], Int64) {
        var cursor = cursor
        while true {
            let rows = try await store.claimDueOutbox(now: Date(), limit: batchSize, afterId: cursor)
            guard let last = rows.last?.id else { return ([], cursor) }
            cursor = last
            let sendable = rows.filter { $0.id.map { unrecorded[$0] == nil } ?? false }
            if !sendable.isEmpty { return (sendable, cursor) }
        }
    }

    /// RFC 1870 §6.1: 552 (enhanced 5.3.4, RFC 3463) at MAIL FROM means this message is too big, not that the
    /// sender is refused.
    private static func isSizeRefusal(_ reply: SMTPReply) -> Bool {
        if reply.code == 552 { return true }
        guard let status = reply.enhancedStatusCode else { return false }
        return status.subject == 3 && status.detail == 4
    }

    private static func refusals(_ rejections: [SMTPRecipientRejection]) -> [String: String] {
        Dictionary(rejections.map { ($0.address, $0.reply.verbatim) }, uniquingKeysWith: { first, _ in first })
    }

    /// Records what the relay made of one message.
    private func record(_ outcome: SMTPTransactionOutcome, for message: OutboxMessage) async {
        guard let id = message.id else { return }
        switch outcome {
        case .accepted(let receipt):
            let delivery = Delivery(
                reply: receipt.serverText, refused: Self.refusals(receipt.rejectedRecipients), at: Date())
            relay.lastDeliveryAt = delivery.at
            metrics.notificationsSent.increment()
            do {
                try await store.markSent(
                    outboxId: id, reply: delivery.reply, refusedRecipients: delivery.refused, at: delivery.at)
                logger.info(
                    "notification sent",
                    metadata: ["outbox.id": "\(id)", "smtp.recipients.refused": "\(delivery.refused.count)"])
            } catch {
                // Sending it again would mail the customer twice: remember it here and retry the recording.
                unrecorded[id] = delivery
                if recordingRetryAt == nil { scheduleRecordingRetry() }
                logger.error(
                    "the relay took a notification but the store cannot record it; it is not sent again, and recording is retried",
                    metadata: ["outbox.id": "\(id)", "error": "\(error)"])
            }
        case .senderRefused(let reply):
            metrics.notificationFailed(.senderRefused)
            await attemptFailed(message, reply: reply, transient: reply.isTransientFailure, refused: [:])
        case .recipientsRefused(let rejections):
            // A 4xx for any recipient may pass; only 5xx for all of them is final.
            let transient = rejections.first { $0.reply.isTransientFailure }?.reply
            metrics.notificationFailed(.recipientsRefused)
            await attemptFailed(
                message, reply: transient ?? rejections.last?.reply, transient: transient != nil,
                refused: Self.refusals(rejections))
        case .dataRefused(let reply, let rejected), .contentRefused(let reply, let rejected):
            if case .dataRefused = outcome { metrics.notificationFailed(.dataRefused) }
            if case .contentRefused = outcome { metrics.notificationFailed(.contentRefused) }
            await attemptFailed(
                message, reply: reply, transient: reply.isTransientFailure, refused: Self.refusals(rejected))
        case .unsendable(let reason):
            metrics.notificationFailed(.unsendable)
            await attemptFailed(message, text: reason, transient: false, refused: [:])
        case .serverClosing:
            break
        }
    }

    /// Counts a failed attempt: retried with `policy` when `transient` (a 4xx), else given up.
    private func attemptFailed(
        _ message: OutboxMessage, reply: SMTPReply? = nil, text: String? = nil, transient: Bool,
        refused: [String: String]
    ) async {
        guard let id = message.id else { return }
        let delay = transient ? policy.delay(forAttempt: message.attempts + 1) : nil
        let retryAt = delay.map { Date().addingTimeInterval(Self.seconds($0)) }
        logger.warning(
            "notification not sent",
            metadata: [
                "outbox.id": "\(id)", "smtp.reply.code": "\(reply?.code ?? 0)", "outbox.retry": "\(retryAt != nil)",
            ])
        do {
            try await store.markAttemptFailed(
                outboxId: id, reply: reply?.verbatim ?? text ?? "", refusedRecipients: refused, retryAt: retryAt)
        } catch {
            logger.error("cannot record a notification attempt", metadata: ["outbox.id": "\(id)", "error": "\(error)"])
        }
    }

    // MARK: - The relay's state

    /// A session failed to open or died: the relay failed. A message in whose transaction sessions keep dying
    /// has its attempt counted after `interruptionsBeforeCounting` times.
    private func sessionFailed(_ error: any Error) async {
        if Task.isCancelled { return }
        if let message = inFlight, let id = message.id {
            inFlight = nil
            let count = interruptions[id, default: 0] + 1
            interruptions[id] = count
            if count >= Self.interruptionsBeforeCounting {
                interruptions[id] = nil
                metrics.notificationFailed(.sessionInterrupted)
                await attemptFailed(
                    message,
                    text: "the relay's session failed during this message \(count) times in a row: "
                        + RelayDiagnosis.diagnose(error).summary,
                    transient: true, refused: [:])
            }
        }
        relayFailed(RelayDiagnosis.diagnose(error))
    }

    private func relayFailed(_ diagnosis: RelayDiagnosis) {
        metrics.relayFailed(diagnosis.cause)
        relayBackoffAttempt += 1
        let delay = relayPolicy.delay(forAttempt: relayBackoffAttempt) ?? relayPolicy.maximum
        relayRetryAt = timeline.now() + delay
        if relay.state != .failing { relay.since = Date() }
        relay.state = .failing
        relay.failures += 1
        relay.diagnosis = diagnosis
        relay.retryAt = Date().addingTimeInterval(Self.seconds(delay))
        logger.warning(
            "the SMTP relay failed; notifications are held and the relay is retried",
            metadata: [
                "relay.cause": "\(diagnosis.cause.rawValue)", "relay.failures": "\(relay.failures)",
                "relay.retry.seconds": "\(Int(Self.seconds(delay)))",
            ])
        // The diagnosis may name the relay's sender address (and its reply may echo it): debug only; status shows it.
        logger.debug("the SMTP relay's diagnosis", metadata: ["error": "\(diagnosis.line)"])
    }

    private func relayWorks() {
        relayRetryAt = nil
        relayBackoffAttempt = 0
        guard relay.state != .ok else { return }
        if relay.state == .failing {
            logger.info("the SMTP relay works again", metadata: ["relay.failures": "\(relay.failures)"])
        }
        relay = RelayStatus(state: .ok, since: Date(), lastDeliveryAt: relay.lastDeliveryAt)
    }

    // MARK: - Recording

    private func scheduleRecordingRetry() {
        recordingFailures += 1
        let delay = recordingPolicy.delay(forAttempt: recordingFailures) ?? recordingPolicy.maximum
        recordingRetryAt = timeline.now() + delay
    }

    /// Records deliveries the store refused before, oldest first, when their retry is due.
    private func recordUnrecorded() async {
        guard !unrecorded.isEmpty else { return }
        if let retryAt = recordingRetryAt, timeline.now() < retryAt { return }
        for id in unrecorded.keys.sorted() {
            guard let delivery = unrecorded[id] else { continue }
            do {
                try await store.markSent(
                    outboxId: id, reply: delivery.reply, refusedRecipients: delivery.refused, at: delivery.at)
                unrecorded[id] = nil
                logger.info("a delivered notification is recorded at last", metadata: ["outbox.id": "\(id)"])
            } catch {
                logger.error(
                    "the store still cannot record a delivered notification; it is not sent again",
                    metadata: ["outbox.id": "\(id)", "error": "\(error)"])
                break
            }
        }
        if unrecorded.isEmpty {
            recordingFailures = 0
            recordingRetryAt = nil
        } else {
            scheduleRecordingRetry()
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

extension TLSMode {
    /// The client mode for a stored setting.
    public init(_ stored: ServerTLS) {
        switch stored {
        case .implicit: self = .implicit
        case .starttls: self = .starttls
        case .none: self = .none
        }
    }
}

extension MailServerEndpoint {
    /// Where a channel's mailbox server is.
    public init(channel: Channel) {
        self.init(host: channel.host, port: channel.port, tls: TLSMode(channel.tls), caFile: channel.caFile)
    }

    /// Where the SMTP relay is.
    public init(relay: SMTPSettings) {
        self.init(host: relay.host, port: relay.port, tls: TLSMode(relay.tls), caFile: relay.caFile)
    }
}

extension RelaySettings {
    /// The relay's login, when it needs one; an OAuth 2 token is read anew each time, from `keeper` when postdesk
    /// holds the relay's grant.
    public func credentials(keeper: OAuthTokenKeeper?) async throws -> MailCredentials? {
        guard let username = settings.username else { return nil }
        return try await MailboxCredentials.resolve(
            username: username, secret: password ?? "", method: settings.authMethod,
            oauth: keeper.map { OAuthLogin(keeper: $0, owner: .relay) })
    }

    /// Sends one message through the relay, as the notifier and `channel verify` do.
    func send(
        _ raw: [UInt8], from sender: String, to recipients: [String], keeper: OAuthTokenKeeper?, logger: Logger
    ) async throws -> SMTPSendReceipt {
        try await SMTPClient.send(
            raw, from: sender, to: recipients, via: MailServerEndpoint(relay: settings),
            credentials: try await credentials(keeper: keeper), heloName: ehloName(forSender: sender), logger: logger)
    }
}

/// Our EHLO name for mail from `address`: its domain when that is a valid host name, else
/// `localhost` (RFC 5321 §4.1.1.1 wants the client's FQDN).
func ehloName(forSender address: String) -> String {
    guard let at = address.lastIndex(of: "@") else { return "localhost" }
    let domain = address[address.index(after: at)...].trimmingCharacters(in: CharacterSet(charactersIn: "<> "))
    let valid =
        !domain.isEmpty && domain.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    return valid ? domain : "localhost"
}
