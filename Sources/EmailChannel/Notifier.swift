import AsyncAlgorithms
import Foundation
import Logging
import MailClients
import ServiceDesk
import ServiceLifecycle

/// Empties the outbox through the SMTP relay: each pending notification is sent as stored (same
/// bytes, same Message-ID), each attempt and the server's reply are recorded, and failures are
/// retried with backoff until the policy gives up.
public actor Notifier: Service {
    private let store: DeskStore
    private let policy: RetryPolicy
    private let doorbell: AsyncChannel<Void>
    private let pollInterval: Duration
    private let logger: Logger

    public init(
        store: DeskStore, policy: RetryPolicy = .notification, pollInterval: Duration = .seconds(5), logger: Logger
    ) {
        self.store = store
        self.policy = policy
        self.doorbell = AsyncChannel()
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Tells the notifier that the outbox has a new row, so it sends now rather than at the next poll.
    public nonisolated func ring() async {
        await doorbell.send(())
    }

    public func run() async throws {
        let ticks = AsyncTimerSequence(interval: pollInterval, clock: .continuous).map { _ in () }
        await cancelWhenGracefulShutdown {
            await self.sendDue()
            for await _ in merge(self.doorbell, ticks) {
                await self.sendDue()
            }
        }
    }

    /// Sends every notification that is due now.
    public func sendDue() async {
        do {
            while !Task.isCancelled {
                let due = try await store.dueOutbox(now: Date(), limit: 20)
                if due.isEmpty { return }
                guard let relay = try await store.relay() else {
                    logger.warning("notifications are waiting but no SMTP relay is set (postdesk smtp set)")
                    return
                }
                for message in due {
                    await send(message, via: relay)
                }
            }
        } catch {
            logger.error("outbox cannot be read", metadata: ["error": "\(error)"])
        }
    }

    private func send(_ message: OutboxMessage, via relay: RelaySettings) async {
        guard let id = message.id else { return }
        do {
            let receipt = try await relay.send(
                [UInt8](message.raw), from: message.envelopeFrom, to: message.recipients, logger: logger)
            try await store.markSent(outboxId: id, reply: receipt.serverText)
            logger.info("notification sent", metadata: ["outbox.id": "\(id)"])
        } catch {
            let reply = "\(error)"
            let permanent = (error as? MailClientError)?.replyCode.map { (500..<600).contains($0) } ?? false
            let delay = permanent ? nil : policy.delay(forAttempt: message.attempts + 1)
            let retryAt = delay.map { Date().addingTimeInterval(Double($0.components.seconds)) }
            logger.warning(
                "notification not sent",
                metadata: ["outbox.id": "\(id)", "error": "\(reply)", "retry": "\(retryAt != nil)"])
            do {
                try await store.markAttemptFailed(outboxId: id, reply: reply, retryAt: retryAt)
            } catch {
                logger.error(
                    "cannot record notification attempt", metadata: ["outbox.id": "\(id)", "error": "\(error)"])
            }
        }
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
    /// The relay's login, when it needs one; an OAuth 2 token is read anew each time.
    public func credentials() async throws -> MailCredentials? {
        guard let username = settings.username else { return nil }
        return try await MailboxCredentials.resolve(
            username: username, secret: password ?? "", method: settings.authMethod)
    }

    /// Sends one message through the relay, as the notifier and `channel verify` do.
    func send(_ raw: [UInt8], from sender: String, to recipients: [String], logger: Logger) async throws
        -> SMTPSendReceipt
    {
        try await SMTPClient.send(
            raw, from: sender, to: recipients, via: MailServerEndpoint(relay: settings),
            credentials: try await credentials(), heloName: ehloName(forSender: sender), logger: logger)
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
