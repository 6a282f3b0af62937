import Foundation
import Hummingbird
import ServiceDesk

/// `/v1/webhooks`: outbound webhooks added (their signing secret answered once), listed and removed, and their
/// deliveries listed and retried; a webhook disabled and enabled again. An API token of role agent reaches none of it (`APITokenAccess`).
struct WebhookRoutes: Sendable {
    let store: DeskStore

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.post { request, context in
            let body = try await request.decode(as: WebhookBody.self, context: context)
            let (webhook, secret) = try await store.addWebhook(
                url: body.url, events: body.events ?? [], projectKey: body.project)
            return created(WebhookCreated(webhook: Self.view(webhook), secret: secret))
        }
        group.get { _, _ in try await store.webhooks().map(Self.view) }
        group.delete(":id") { _, context in
            let id = try Self.id(context, what: "webhook")
            try await store.removeWebhook(id: id)
            return WebhookRemoved(removed: id)
        }
        // POST /v1/webhooks/{id}/disable and /enable: a disabled webhook gets no new deliveries and its pending ones
        // wait; enabled again, they are sent.
        for (action, active) in [("disable", false), ("enable", true)] {
            group.post(":id/\(action)") { _, context in
                let id = try Self.id(context, what: "webhook")
                try await store.setWebhookActive(id: id, active)
                guard let entry = try await store.webhooks().first(where: { $0.id == id }) else {
                    throw DeskError(.notFound, "there is no webhook \(id)")
                }
                return Self.view(entry)
            }
        }
        // GET /v1/webhooks/{id}/deliveries[?limit=N], newest first.
        group.get(":id/deliveries") { request, context in
            let id = try Self.id(context, what: "webhook")
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 50
            return try await store.webhookDeliveries(webhookId: id, limit: min(max(limit, 1), 10_000)).map(Self.view)
        }
        // Sent within a second: the dispatcher polls for due deliveries.
        group.post("deliveries/:id/retry") { _, context in
            let id = try Self.id(context, what: "webhook delivery")
            try await store.retryWebhookDelivery(id: id)
            return WebhookRetried(retried: id)
        }
    }

    private static func id(_ context: AdminRequestContext, what: String) throws -> Int64 {
        let text = try context.parameters.require("id")
        guard let id = Int64(text) else { throw DeskError(.invalid, "\(text) is not a \(what) id") }
        return id
    }

    static func view(_ entry: WebhookEntry) -> WebhookView {
        WebhookView(
            id: entry.id, url: entry.url, events: entry.events, project: entry.projectKey, active: entry.active,
            createdAt: entry.createdAt, pending: entry.pending, failed: entry.failed, lastSentAt: entry.lastSentAt)
    }

    static func view(_ delivery: WebhookDelivery) -> WebhookDeliveryView {
        WebhookDeliveryView(
            id: delivery.id ?? 0, webhookId: delivery.webhookId, event: delivery.event, status: delivery.status,
            attempts: delivery.attempts, nextAttemptAt: delivery.status == .pending ? delivery.nextAttemptAt : nil,
            responseCode: delivery.responseCode, lastResponse: delivery.lastResponse, createdAt: delivery.createdAt,
            sentAt: delivery.sentAt, payload: delivery.payload)
    }
}

extension WebhookView: ResponseEncodable {}
extension WebhookCreated: ResponseEncodable {}
extension WebhookDeliveryView: ResponseEncodable {}
extension WebhookRemoved: ResponseEncodable {}
extension WebhookRetried: ResponseEncodable {}
