import EmailChannel
import Foundation
import Hummingbird
import ServiceDesk

/// `/v1/outbox`: the notifications with their attempts and the relay's replies, and retrying failed ones.
struct OutboxRoutes: Sendable {
    let store: DeskStore
    let notifier: Notifier

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        // GET /v1/outbox[?status=pending|sent|failed][&limit=N], newest first.
        group.get { request, _ in
            var status: OutboxStatus?
            if let text = request.uri.queryParameters.get("status") {
                guard let parsed = OutboxStatus(rawValue: text) else {
                    let allowed = OutboxStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    throw DeskError(.invalid, "unknown outbox status \(text); use one of \(allowed)")
                }
                status = parsed
            }
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 200
            let relay = await notifier.status()
            let held: String? =
                switch relay.state {
                case .failing: "the SMTP relay fails: " + (relay.diagnosis?.summary ?? "see postdesk status")
                case .notConfigured: "no SMTP relay is set"
                case .ok, .untried: nil
                }
            return try await store.outboxEntries(status: status, limit: min(max(limit, 1), 10_000))
                .map { Self.view($0, held: $0.status == .pending ? held : nil) }
        }
        group.post(":id/retry") { _, context in
            let text = try context.parameters.require("id")
            guard let id = Int64(text) else { throw DeskError(.invalid, "\(text) is not a notification id") }
            try await store.retryFailedNotification(id: id)
            await notifier.retryRelayNow()
            return OutboxRetryResult(retried: [id])
        }
        // POST /v1/outbox/release|drop[?id=N]: held notifications are sent now, or given up.
        for (action, drop) in [("release", false), ("drop", true)] {
            group.post(RouterPath(stringLiteral: action)) { request, _ in
                let id = try request.uri.queryParameters.get("id").map { text -> Int64 in
                    guard let id = Int64(text) else {
                        throw DeskError(.invalid, "\(text) is not a notification id")
                    }
                    return id
                }
                let ids = try await store.settleHeldNotifications(id: id, drop: drop)
                if !drop, !ids.isEmpty { await notifier.ring() }
                return OutboxRetryResult(retried: ids)
            }
        }
        group.post("retry-failed") { _, _ in
            let ids = try await store.retryAllFailedNotifications()
            if !ids.isEmpty { await notifier.retryRelayNow() }
            return OutboxRetryResult(retried: ids)
        }
    }

    static func view(_ entry: OutboxEntry, held: String?) -> OutboxItemView {
        OutboxItemView(
            id: entry.id, request: entry.requestKey, messageId: entry.messageId, recipients: entry.recipients,
            status: entry.status, attempts: entry.attempts, lastReply: entry.lastReply,
            refusedRecipients: entry.refusedRecipients,
            nextAttemptAt: entry.status == .pending ? entry.nextAttemptAt : nil, heldBecause: held,
            sentAt: entry.sentAt,
            createdAt: entry.createdAt)
    }
}
