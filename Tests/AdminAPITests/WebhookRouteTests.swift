import EmailChannel
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceDesk
import Testing

@testable import AdminAPI

@Suite("The /v1/webhooks routes: add (secret once), list, remove, deliveries, retry")
struct WebhookRouteTests {
    static func router(_ store: DeskStore) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())
        WebhookRoutes(store: store).addRoutes(to: router.group("/v1/webhooks"))
        return router
    }

    static func json(_ body: some Encodable) throws -> ByteBuffer {
        ByteBuffer(data: try AdminJSON.encoder().encode(body))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer) throws -> T {
        try AdminJSON.decoder().decode(type, from: Data(buffer: body))
    }

    /// POST /v1/webhooks with `body`, answered 201.
    static func add(_ client: some TestClientProtocol, _ body: WebhookBody) async throws -> WebhookCreated {
        try await client.execute(
            uri: "/v1/webhooks", method: .post, headers: [.contentType: "application/json"], body: try json(body)
        ) { response in
            #expect(response.status == .created)
            return try decode(WebhookCreated.self, response.body)
        }
    }

    /// Project SD with a request type fit for email.
    static func desk() async throws -> DeskStore {
        let store = try DeskStore.inMemory()
        _ = try await store.createProject(key: "SD", name: "Service Desk", signup: .public)
        _ = try await store.addRequestType(
            projectKey: "SD", name: "Get help",
            fields: [
                RequestField(name: "summary", visible: true, required: true),
                RequestField(name: "description", visible: true, required: true),
            ])
        return store
    }

    /// Links a channel and takes in one mail through the real router: request SD-1.
    static func mail(_ store: DeskStore) async throws {
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 1, tls: .none,
                caFile: nil, username: "help@desk.test", password: "x", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        let raw =
            "From: alice@customer.test\r\nTo: help@desk.test\r\nSubject: Printer\r\nMessage-ID: <m1@customer.test>\r\n\r\nBroken.\r\n"
        _ = try await store.receive(channelId: try #require(channel.id), raw: Array(raw.utf8), mailboxUid: nil)
        try await RequestRouter(store: store, logger: Logger(label: "t")).drainPending()
    }

    @Test("add answers the secret once; list, deliveries and every other answer never show it; remove takes it away")
    func addListRemove() async throws {
        let store = try await Self.desk()
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            let created = try await Self.add(
                client, WebhookBody(url: "https://tickets.example.com/in", events: [.commentAdded], project: "SD"))
            #expect(created.secret.hasPrefix("pdwh_"))
            #expect(created.webhook.events == [.commentAdded] && created.webhook.project == "SD")
            #expect(created.webhook.active && created.webhook.pending == 0)

            try await Self.mail(store)
            _ = try await store.addAgentComment(
                requestKey: "SD-1", author: "bob@desk.test", body: "On it", isPublic: true)

            try await client.execute(uri: "/v1/webhooks", method: .get) { response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains(created.secret))
                let list = try Self.decode([WebhookView].self, response.body)
                #expect(list.map(\.id) == [created.webhook.id])
                #expect(list.first?.pending == 1, "the comment, not the request it did not ask for")
            }
            try await client.execute(uri: "/v1/webhooks/\(created.webhook.id)/deliveries?limit=5", method: .get) {
                response in
                #expect(response.status == .ok)
                #expect(!String(buffer: response.body).contains(created.secret))
                let deliveries = try Self.decode([WebhookDeliveryView].self, response.body)
                #expect(deliveries.map(\.event) == [.commentAdded])
                #expect(deliveries.first?.status == .pending && deliveries.first?.nextAttemptAt != nil)
                #expect(deliveries.first?.payload.contains("\"On it\"") == true)
            }
            try await client.execute(uri: "/v1/webhooks/\(created.webhook.id)", method: .delete) { response in
                #expect(response.status == .ok)
                let removed = try Self.decode(WebhookRemoved.self, response.body)
                #expect(removed.removed == created.webhook.id)
            }
            try await client.execute(uri: "/v1/webhooks/\(created.webhook.id)", method: .delete) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/webhooks/\(created.webhook.id)/deliveries", method: .get) {
                response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/webhooks", method: .get) { response in
                let list = try Self.decode([WebhookView].self, response.body)
                #expect(list.isEmpty)
            }
        }
    }

    @Test("a bad URL, an unknown project or event, and a non-numeric id are refused with a reason")
    func refusals() async throws {
        let store = try await Self.desk()
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            for (body, status) in [
                (#"{"url":"http://tickets.example.com/in"}"#, HTTPResponse.Status.badRequest),
                (#"{"url":"https://tickets.example.com/in","project":"NOPE"}"#, .notFound),
                (#"{"url":"https://tickets.example.com/in","events":["request.deleted"]}"#, .badRequest),
            ] {
                try await client.execute(
                    uri: "/v1/webhooks", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { response in
                    #expect(response.status == status, "\(body): \(String(buffer: response.body))")
                    #expect(String(buffer: response.body).contains("\"error\""))
                }
            }
            try await client.execute(uri: "/v1/webhooks/x/deliveries", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
        #expect(try await store.webhooks().isEmpty)
    }

    @Test("retry sets a failed delivery pending again; a pending or unknown one is refused")
    func retry() async throws {
        let store = try await Self.desk()
        let (hook, _) = try await store.addWebhook(url: "https://tickets.example.com/in", events: [], projectKey: nil)
        try await Self.mail(store)
        let delivery = try #require(try await store.webhookDeliveries(webhookId: hook.id).first?.id)
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/webhooks/deliveries/\(delivery)/retry", method: .post) { response in
                #expect(response.status == .conflict, "pending: \(String(buffer: response.body))")
            }
            try await store.markWebhookAttemptFailed(id: delivery, responseCode: 410, response: "gone", retryAt: nil)
            try await client.execute(uri: "/v1/webhooks/deliveries/\(delivery)/retry", method: .post) { response in
                #expect(response.status == .ok)
                let retried = try Self.decode(WebhookRetried.self, response.body)
                #expect(retried.retried == delivery)
            }
            try await client.execute(uri: "/v1/webhooks/deliveries/999/retry", method: .post) { response in
                #expect(response.status == .notFound)
            }
        }
        let retried = try #require(try await store.webhookDelivery(id: delivery))
        #expect(retried.status == .pending && retried.attempts == 0)
    }

    @Test("an API token of role agent reaches no webhook route; an admin token does")
    func agentTokens() {
        let routes: [(HTTPRequest.Method, String)] = [
            (.post, "/v1/webhooks"), (.get, "/v1/webhooks"), (.delete, "/v1/webhooks/1"),
            (.get, "/v1/webhooks/1/deliveries"), (.post, "/v1/webhooks/deliveries/7/retry"),
        ]
        for (method, path) in routes {
            #expect(!APITokenAccess.allows(.agent, method: method, path: path), "\(method) \(path)")
            #expect(APITokenAccess.allows(.admin, method: method, path: path), "\(method) \(path)")
        }
    }

    @Test("disable holds a webhook's pending deliveries and takes no new ones; enable sends what waited")
    func disableEnable() async throws {
        let store = try await Self.desk()
        let app = Application(router: Self.router(store))
        try await app.test(.router) { client in
            let created = try await Self.add(
                client, WebhookBody(url: "https://tickets.example.com/in", events: [.requestCreated], project: nil))
            let id = created.webhook.id
            try await Self.mail(store)
            #expect(try await store.webhooksWithDueDeliveries(now: .distantFuture) == [id])

            let disabled = try await client.execute(uri: "/v1/webhooks/\(id)/disable", method: .post) { response in
                #expect(response.status == .ok)
                return try Self.decode(WebhookView.self, response.body)
            }
            #expect(!disabled.active && disabled.pending == 1)
            // The pending delivery waits; a new request makes no delivery for it.
            #expect(try await store.webhooksWithDueDeliveries(now: .distantFuture).isEmpty)
            let raw =
                "From: carol@customer.test\r\nTo: help@desk.test\r\nSubject: Scanner\r\nMessage-ID: <m2@customer.test>\r\n\r\nOff.\r\n"
            let channel = try #require(try await store.channels().first?.channel.id)
            _ = try await store.receive(channelId: channel, raw: Array(raw.utf8), mailboxUid: nil)
            try await RequestRouter(store: store, logger: Logger(label: "t")).drainPending()
            #expect(try await store.webhookDeliveries(webhookId: id).count == 1)

            let enabled = try await client.execute(uri: "/v1/webhooks/\(id)/enable", method: .post) { response in
                #expect(response.status == .ok)
                return try Self.decode(WebhookView.self, response.body)
            }
            #expect(enabled.active && enabled.pending == 1)
            #expect(try await store.webhooksWithDueDeliveries(now: .distantFuture) == [id])

            try await client.execute(uri: "/v1/webhooks/\(id + 1)/disable", method: .post) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/webhooks/one/enable", method: .post) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
