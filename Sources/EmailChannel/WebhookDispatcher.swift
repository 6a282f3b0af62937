import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceDesk
import ServiceLifecycle

/// Sends the webhook deliveries the store's triggers queued: each one POSTed as stored (same body, same delivery
/// id), signed (`WebhookSignature`), and each attempt recorded with the receiver's status and first words.
///
/// - 2xx: sent. A 4xx other than 408 and 429: refused for good (failed, recorded). Anything else (5xx, 408, 429,
///   a 3xx since redirects are not followed, no answer, a timeout): retried with `policy`, failed when it runs out.
/// - Each webhook is a lane: at most one request in flight per webhook, so its deliveries go out one by one, oldest
///   first; at most `maxConcurrentWebhooks` lanes run at once, so a receiver that hangs (until `timeout`) holds only
///   its own lane.
/// - Woken by a poll every `pollInterval` (one indexed query per active webhook), since the rows are written by
///   triggers in whatever transaction made the change, and by a lane that ends.
/// - A graceful shutdown starts no new request and lets the ones in flight finish (each within `timeout`); what is
///   not sent stays pending for the next start.
public actor WebhookDispatcher: Service {
    /// How the dispatcher sends.
    public struct Configuration: Sendable {
        public var policy: RetryPolicy
        /// The longest one request may take, from connecting to the end of the answer's head.
        public var timeout: Duration
        public var maxConcurrentWebhooks: Int
        public var pollInterval: Duration
        /// Deliveries a lane sends before it gives its place to another webhook.
        public var deliveriesPerLane: Int

        public init(
            policy: RetryPolicy = .webhook, timeout: Duration = .seconds(10), maxConcurrentWebhooks: Int = 8,
            pollInterval: Duration = .seconds(1), deliveriesPerLane: Int = 20
        ) {
            self.policy = policy
            self.timeout = timeout
            self.maxConcurrentWebhooks = max(maxConcurrentWebhooks, 1)
            self.pollInterval = pollInterval
            self.deliveriesPerLane = max(deliveriesPerLane, 1)
        }
    }

    /// What the receiver's answer makes of a delivery.
    public enum Verdict: Sendable, Equatable {
        case delivered
        /// A 4xx other than 408 and 429: sending it again would get the same answer.
        case refused
        case retry

        /// The verdict for an HTTP status code.
        public init(statusCode: Int) {
            switch statusCode {
            case 200...299: self = .delivered
            case 408, 429: self = .retry
            case 400...499: self = .refused
            default: self = .retry
            }
        }
    }

    /// The most of an answer's body that is read: the store keeps its first 500 characters.
    static let answerBytes = 2048

    private let store: DeskStore
    private let configuration: Configuration
    private let logger: Logger
    private let doorbell = NotifierDoorbell()
    private let timeline = NotifierTimeline(ContinuousClock())
    private let stopping = StopFlag()
    /// Webhooks whose lane runs.
    private var lanes: Set<Int64> = []
    /// Webhooks whose last attempt the store could not record or whose delivery it could not read, and when (on
    /// `timeline`) to try them again: a row left due must not be sent again at once, over and over.
    private var pausedUntil: [Int64: Duration] = [:]
    /// How long a webhook waits after the store failed it.
    static let recordingPause: Duration = .seconds(5)

    /// A dispatcher over `store`'s deliveries.
    public init(store: DeskStore, configuration: Configuration = .init(), logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var http = HTTPClient.Configuration(
            tlsConfiguration: nil, redirectConfiguration: .disallow,
            timeout: .init(
                connect: Self.timeAmount(configuration.timeout), read: Self.timeAmount(configuration.timeout)),
            decompression: .disabled)
        // A refused connection fails the attempt at once with its cause; the retry policy does the waiting.
        http.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled && !stopping.isSet {
                    for webhookId in await dueWebhooks() {
                        lanes.insert(webhookId)
                        group.addTask { await self.runLane(webhookId, client: client) }
                    }
                    await doorbell.wait(upTo: configuration.pollInterval, on: timeline)
                }
            }
        } onGracefulShutdown: { [stopping, doorbell] in
            stopping.set()
            doorbell.ring(retryRelay: false)
        }
        do {
            try await client.shutdown()
        } catch {
            logger.debug("the webhook HTTP client did not shut down cleanly", metadata: ["error": "\(error)"])
        }
    }

    /// Webhooks with a due delivery and no lane, as many as there are free lanes.
    private func dueWebhooks() async -> [Int64] {
        guard lanes.count < configuration.maxConcurrentWebhooks else { return [] }
        let due: [Int64]
        do {
            due = try await store.webhooksWithDueDeliveries(now: Date())
        } catch {
            logger.error("the webhook deliveries cannot be read", metadata: ["error": "\(error)"])
            return []
        }
        // Re-read after the await: lanes may have ended meanwhile (none started: only the loop starts them).
        let now = timeline.now()
        pausedUntil = pausedUntil.filter { $0.value > now }
        let free = configuration.maxConcurrentWebhooks - lanes.count
        return Array(due.filter { !lanes.contains($0) && pausedUntil[$0] == nil }.prefix(max(free, 0)))
    }

    /// Sends one webhook's due deliveries, oldest first, one at a time, up to `deliveriesPerLane`.
    private func runLane(_ webhookId: Int64, client: HTTPClient) async {
        var sent = 0
        while sent < configuration.deliveriesPerLane, !Task.isCancelled, !stopping.isSet {
            let job: WebhookJob
            do {
                guard let next = try await store.nextDueWebhookDelivery(webhookId: webhookId, now: Date()) else {
                    break
                }
                job = next
            } catch {
                // A secret that this data directory's key cannot open stays so: do not read it again at once.
                logger.error(
                    "a webhook delivery cannot be read", metadata: ["webhook.id": "\(webhookId)", "error": "\(error)"])
                pausedUntil[webhookId] = timeline.now() + Self.recordingPause
                break
            }
            guard await deliver(job, client: client) else {
                pausedUntil[webhookId] = timeline.now() + Self.recordingPause
                break
            }
            sent += 1
        }
        lanes.remove(webhookId)
        // The loop may have more for this webhook, or a lane is free for another.
        doorbell.ring(retryRelay: false)
    }

    /// One attempt, recorded; false when the store could not record it (or the attempt was cancelled).
    private func deliver(_ job: WebhookJob, client: HTTPClient) async -> Bool {
        guard let id = job.delivery.id else { return false }
        let attempt = job.delivery.attempts + 1
        var metadata: Logger.Metadata = [
            "webhook.id": "\(job.delivery.webhookId)", "webhook.delivery.id": "\(id)",
            "webhook.event": "\(job.delivery.event.rawValue)", "webhook.attempt": "\(attempt)",
        ]
        var verdict = Verdict.retry
        var code: Int?
        var answer: String
        var retryAfter: Duration?
        do {
            try WebhookURLRule.check(job.url)
            let response = try await post(job, client: client)
            code = response.code
            answer = response.text
            verdict = Verdict(statusCode: response.code)
            retryAfter = response.retryAfter
        } catch let error as DeskError {
            // The URL is not one postdesk sends to (the rule is checked at add, so only an old row can fail here).
            verdict = .refused
            answer = error.message
        } catch {
            if Task.isCancelled { return false }
            answer = Self.describe(error)
        }
        if let code { metadata["http.status"] = "\(code)" }
        do {
            switch verdict {
            case .delivered:
                try await store.markWebhookDelivered(id: id, responseCode: code ?? 0, response: answer)
                logger.info("webhook delivered", metadata: metadata)
            case .refused:
                try await store.markWebhookAttemptFailed(id: id, responseCode: code, response: answer, retryAt: nil)
                logger.warning("webhook delivery refused by the receiver; given up", metadata: metadata)
            case .retry:
                var delay = configuration.policy.delay(forAttempt: attempt)
                if let wait = delay, let retryAfter { delay = min(max(wait, retryAfter), configuration.policy.maximum) }
                let retryAt = delay.map { Date().addingTimeInterval(Self.seconds($0)) }
                try await store.markWebhookAttemptFailed(
                    id: id, responseCode: code, response: answer, retryAt: retryAt)
                metadata["webhook.retry"] = "\(retryAt != nil)"
                logger.warning("webhook delivery failed", metadata: metadata)
            }
            return true
        } catch {
            // Not recorded: it stays pending and due, and is sent again after a pause (the receiver keys on the
            // delivery id).
            metadata["error"] = "\(error)"
            logger.error("a webhook attempt cannot be recorded", metadata: metadata)
            return false
        }
    }

    /// What a receiver answered.
    private struct Answer {
        var code: Int
        var text: String
        var retryAfter: Duration?
    }

    private func post(_ job: WebhookJob, client: HTTPClient) async throws -> Answer {
        guard let id = job.delivery.id else { throw DeskError(.storage, "delivery without id") }
        let body = Array(job.delivery.payload.utf8)
        let timestamp = Int64(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: job.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "postdesk-webhook")
        request.headers.add(name: "X-Postdesk-Event", value: job.delivery.event.rawValue)
        request.headers.add(name: "X-Postdesk-Delivery", value: "\(id)")
        request.headers.add(name: "X-Postdesk-Timestamp", value: "\(timestamp)")
        request.headers.add(
            name: "X-Postdesk-Signature",
            value: WebhookSignature.header(body: body, timestamp: timestamp, secret: job.secret))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: Self.timeAmount(configuration.timeout))
        var excerpt: [UInt8] = []
        // Only the start of the answer is kept; the rest is not read (the connection is closed).
        for try await chunk in response.body {
            excerpt += chunk.readableBytesView.prefix(Self.answerBytes - excerpt.count)
            if excerpt.count >= Self.answerBytes { break }
        }
        let code = Int(response.status.code)
        var text = String(decoding: excerpt, as: UTF8.self)
        if text.isEmpty { text = "\(code) \(response.status.reasonPhrase)" }
        if (300...399).contains(code) {
            text = "\(code) redirect to \(response.headers.first(name: "Location") ?? "nowhere"), not followed; " + text
        }
        // Retry-After in seconds (RFC 9110 §10.2.3); an HTTP date is left to the policy.
        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }.map { Duration.seconds($0) }
        return Answer(code: code, text: text, retryAfter: retryAfter)
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "no answer within the timeout"
            default: return "the request failed: \(error)"
            }
        }
        return "the request failed: \(error)"
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Set once when a graceful shutdown begins; read by the loop and the lanes.
    private final class StopFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }
}

extension RetryPolicy {
    /// Webhook deliveries: 30 s doubling up to an hour, 11 retries, so 12 attempts over about 5 hours.
    public static let webhook = RetryPolicy(base: .seconds(30), maximum: .seconds(3600), maxAttempts: 11)
}
