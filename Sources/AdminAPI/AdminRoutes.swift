// AdminAPI owns the admin interface: HTTP+JSON over a Unix-domain socket (Hummingbird 2), the
// server process that hosts it with the email runtime, and the client the CLI uses. What crosses the
// wire is PostdeskWire's; domain rules live in ServiceDesk, mail handling in EmailChannel.

import EmailChannel
import Foundation
import Hummingbird
import Logging
import MailClients
import ServiceDesk

/// The `/v1` routes of the admin API, each a thin translation between JSON and the store or the
/// email runtime.
struct AdminRoutes: Sendable {
    let store: DeskStore
    let linker: MailboxLinker
    let supervisor: ChannelSupervisor
    let notifier: Notifier
    let statusBoard: ChannelStatusBoard
    let verifier: ChannelVerifier
    let requestRouter: RequestRouter
    let tokenKeeper: OAuthTokenKeeper
    let flows: OAuthFlows
    /// The web console's base address, when `serve --http-listen` runs one.
    let consoleAddress: String?
    let logger: Logger

    func register(on router: Router<AdminRequestContext>) {
        InboundRoutes(store: store, router: requestRouter).addRoutes(to: router.group("/v1/inbound"))
        OAuthAppRoutes(store: store).addRoutes(to: router.group("/v1/oauth/apps"))
        AgentRoutes(store: store).addRoutes(to: router.group("/v1/agents"))
        NotificationRoutes(store: store).addRoutes(to: router.group("/v1/projects/:project/notifications"))
        WebhookRoutes(store: store).addRoutes(to: router.group("/v1/webhooks"))
        OAuthFlowRoutes(
            store: store, flows: flows, linker: linker, supervisor: supervisor, tokenKeeper: tokenKeeper
        )
        .addRoutes(flows: router.group("/v1/oauth/flows"), channels: router.group("/v1/channels"))
        router.post("/v1/projects") { request, context in
            let body = try await request.decode(as: CreateProjectBody.self, context: context)
            let project = try await store.createProject(key: body.key, name: body.name, signup: body.signup)
            return created(ProjectView(key: project.key, name: project.name, signup: project.signup))
        }
        router.get("/v1/projects") { _, _ in
            try await store.projects().map { ProjectView(key: $0.key, name: $0.name, signup: $0.signup) }
        }
        router.post("/v1/projects/:project/request-types") { request, context in
            let body = try await request.decode(as: RequestTypeBody.self, context: context)
            let type = try await store.addRequestType(
                projectKey: try context.parameters.require("project"), name: body.name, fields: body.fields)
            return created(RequestTypeView(name: type.name, fields: type.fields, emailProblem: type.unsuitability))
        }
        router.get("/v1/projects/:project/request-types") { _, context in
            try await store.requestTypes(projectKey: try context.parameters.require("project")).map {
                RequestTypeView(name: $0.name, fields: $0.fields, emailProblem: $0.unsuitability)
            }
        }
        router.put("/v1/smtp") { request, context in
            let body = try await request.decode(as: SMTPBody.self, context: context)
            let preset = ProviderProfile.of(body.provider ?? .custom).smtp
            guard let host = body.host ?? preset?.host, let port = body.port ?? preset?.port,
                let tls = body.tls ?? preset?.tls
            else {
                throw DeskError(.invalid, "a custom SMTP relay needs --host, --port and --tls")
            }
            guard let from = AddressNormalizer.normalize(body.from) else {
                throw DeskError(.invalid, "\"\(body.from)\" is not an email address")
            }
            guard (1...65535).contains(port) else { throw DeskError(.invalid, "port \(port) is out of range") }
            let authMethod = body.authMethod ?? .password
            // Before the test: a password must not cross the network in plaintext without consent.
            try TransportSecurity.permit(
                host: host, tls: tls, insecurePlaintext: body.insecurePlaintext ?? false, what: "the SMTP relay")
            let view = SMTPView(host: host, port: port, tls: tls, from: from, username: body.username)
            var grant: OAuthFlows.Grant?
            if authMethod == .oauth2App {
                guard let flow = body.oauthFlow, body.username != nil else {
                    throw DeskError(.invalid, "an OAuth 2.0 relay needs --username and a finished sign-in")
                }
                grant = try await flows.grant(flow)
            }
            var report = await Self.testRelay(
                MailServerEndpoint(host: host, port: port, tls: TLSMode(tls), caFile: body.caFile), from: from,
                username: body.username, secret: body.password, authMethod: authMethod,
                grantToken: grant?.tokens.accessToken, logger: logger)
            if body.username != nil,
                let advice = ProviderProfile.of(body.provider ?? .custom, host: host).oauthAdvice(for: authMethod)
            {
                report.advice.append(advice)
            }
            if !report.ok && body.saveAnyway != true {
                let reason =
                    "the SMTP relay test failed, so nothing was saved (add --save-anyway to save these settings "
                    + "anyway):\n" + report.renderText().trimmingCharacters(in: .newlines)
                throw AdminError(
                    status: .badGateway, body: SMTPSetResult(relay: view, test: report, saved: false, error: reason)
                )
            }
            try await store.setSMTP(
                host: host, port: port, tls: tls, caFile: body.caFile, fromAddress: from,
                username: body.username, password: grant == nil ? body.password : nil, authMethod: authMethod,
                insecurePlaintext: body.insecurePlaintext ?? false, grant: grant.map { ($0.appId, $0.tokens) })
            if let flow = body.oauthFlow {
                await flows.complete(flow)
                await tokenKeeper.grantsChanged()
            }
            // New settings: the relay is tried at once, whatever its backoff.
            await notifier.retryRelayNow()
            return SMTPSetResult(relay: view, test: report, saved: true, error: nil)
        }
        router.post("/v1/projects/:project/channels") { request, context in
            let body = try await request.decode(as: ChannelBody.self, context: context)
            let projectKey = try context.parameters.require("project")
            let draft = try body.draft(projectKey: projectKey)
            let linked =
                if let flow = body.oauthFlow {
                    try await flows.withFreshGrant(flow) { [linker] in try await linker.link(draft, grant: $0) }
                } else {
                    try await linker.link(draft)
                }
            if let flow = body.oauthFlow {
                await flows.complete(flow)
                await tokenKeeper.grantsChanged()
            }
            // Only the new channel is read and started: the other mailboxes are left as they run.
            if let id = linked.channel.id {
                await supervisor.reload(channelId: id)
            } else {
                await supervisor.reload()
            }
            return created(Self.view(linked.channel, projectKey: projectKey.uppercased(), warnings: linked.warnings))
        }
        ChannelImportRoutes(store: store, linker: linker, supervisor: supervisor, logger: logger)
            .addRoutes(to: router.group("/v1/channels"))
        router.get("/v1/channels") { _, _ in
            try await store.channels().map { Self.view($0.channel, projectKey: $0.projectKey, warnings: []) }
        }
        router.post("/v1/projects/:project/customers") { request, context in
            let body = try await request.decode(as: CustomerBody.self, context: context)
            let customer = try await store.addCustomer(
                projectKey: try context.parameters.require("project"), address: body.address, name: body.name)
            return created(CustomerView(address: customer.address, name: customer.name))
        }
        router.get("/v1/projects/:project/customers") { _, context in
            try await store.customers(projectKey: try context.parameters.require("project")).map {
                CustomerView(address: $0.address, name: $0.name)
            }
        }
        router.post("/v1/projects/:project/customer-rules") { request, context in
            let body = try await request.decode(as: CustomerRuleBody.self, context: context)
            let pattern = try await store.addCustomerRule(
                projectKey: try context.parameters.require("project"), kind: body.kind, pattern: body.pattern)
            return created(CustomerRuleBody(kind: body.kind, pattern: pattern))
        }
        router.delete("/v1/projects/:project/customer-rules") { request, context in
            let body = try await request.decode(as: CustomerRuleBody.self, context: context)
            try await store.removeCustomerRule(
                projectKey: try context.parameters.require("project"), kind: body.kind, pattern: body.pattern)
            return body
        }
        router.get("/v1/projects/:project/customer-rules") { _, context in
            try await store.customerRules(projectKey: try context.parameters.require("project")).map {
                CustomerRuleBody(kind: $0.kind, pattern: $0.pattern)
            }
        }
        router.get("/v1/projects/:project/queue") { _, context in
            try await store.queue(projectKey: try context.parameters.require("project")).map {
                QueueRowView(
                    key: $0.key, summary: $0.summary, status: $0.status.rawValue, reporter: $0.reporter,
                    created: $0.createdAt)
            }
        }
        router.get("/v1/requests/:key") { _, context in
            let key = try context.parameters.require("key")
            let detail = try await store.request(key: key)
            let request = detail.request
            let participants = try await store.participants(requestKey: key)
            let attachments = try await store.attachments(requestKey: key).map {
                AttachmentView(
                    filename: $0.filename, contentType: $0.contentType, size: $0.size, sha256: $0.sha256,
                    inline: $0.isInline, path: $0.path)
            }
            return RequestView(
                key: request.key, summary: request.summary, description: request.description,
                status: request.status.rawValue, reporter: request.reporter,
                comments: detail.comments.map {
                    CommentView(author: $0.author, body: $0.body, public: $0.isPublic, source: $0.source.rawValue)
                }, participants: participants, attachments: attachments)
        }
        router.post("/v1/requests/:key/comments") { request, context in
            let body = try await request.decode(as: CommentBody.self, context: context)
            let result = try await store.addAgentComment(
                requestKey: try context.parameters.require("key"), author: body.author, body: body.body,
                isPublic: !body.internal)
            if result.notification != nil { await notifier.ring() }
            return created(
                CommentResult(
                    request: try context.parameters.require("key").uppercased(), public: !body.internal,
                    notificationMessageId: result.notification?.messageId))
        }
        router.post("/v1/channels/:address/test") { _, context in
            try await ChannelTester().test(
                channelAddress: try context.parameters.require("address"), store: store, tokenKeeper: tokenKeeper,
                supervisor: supervisor, logger: logger)
        }
        router.post("/v1/channels/:address/verify") { _, context in
            let state = try await verifier.start(
                channelAddress: try context.parameters.require("address"), pushDelivery: supervisor.pushDelivery)
            return created(VerificationView(verification: state, mailbox: await mailboxStatus(state.channelAddress)))
        }
        router.get("/v1/verifications/:token") { _, context in
            let state = try await store.verification(token: try context.parameters.require("token"))
            return VerificationView(verification: state, mailbox: await mailboxStatus(state.channelAddress))
        }
        router.get("/v1/console") { _, _ in ConsoleInfoView(address: consoleAddress) }
        router.get("/v1/health") { _, _ in
            let (status, counts) = try await notifier.adminStatus(store: store)
            var relay = Self.view(status, outbox: counts)
            relay.oldestPendingAt = counts.pending > 0 ? try await store.oldestPendingNotificationAt() : nil
            let grants = try await store.oauthGrantSummaries()
            relay.oauth = grants[.relay].map(OAuthGrantView.init)
            var channels = await statusBoard.all().map(Self.view)
            if !grants.isEmpty {
                let ids = Dictionary(
                    try await store.channels().compactMap { row in row.channel.id.map { (row.channel.address, $0) } },
                    uniquingKeysWith: { a, _ in a })
                for index in channels.indices {
                    guard let id = ids[channels[index].address] else { continue }
                    channels[index].oauth = grants[.channel(id)].map(OAuthGrantView.init)
                }
            }
            return HealthView(
                status: "ok", version: PostdeskVersion.current, channels: channels,
                plaintext: try await store.plaintextLinks().map(\.description), relay: relay)
        }
        OutboxRoutes(store: store, notifier: notifier).addRoutes(to: router.group("/v1/outbox"))
        router.get("/v1/log") { request, _ in
            let channel = request.uri.queryParameters.get("channel")
            let since = request.uri.queryParameters.get("since").flatMap { ISO8601DateFormatter().date(from: $0) }
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 200
            let outcomes = try request.uri.queryParameters.get("outcome").map { list in
                try Set(
                    list.split(separator: ",").map { name in
                        guard let outcome = InboundOutcome(rawValue: String(name)) else {
                            throw DeskError(.invalid, "unknown outcome \(name)")
                        }
                        return outcome
                    })
            }
            let channels = Dictionary(
                try await store.channels().compactMap { row in row.channel.id.map { ($0, row.channel.address) } },
                uniquingKeysWith: { a, _ in a })
            return try await store.processingLog(
                channelAddress: channel, since: since, outcomes: outcomes, limit: min(limit, 10_000)
            )
            .map {
                LogEntry(
                    time: $0.time, channel: channels[$0.channelId] ?? "?", from: $0.from, subject: $0.subject,
                    outcome: $0.outcome, request: $0.requestKey, detail: $0.detail,
                    notes: $0.notes.map { $0.split(separator: "\n").map(String.init) }, inbound: $0.inboundId,
                    attempts: $0.inboundId == nil ? nil : $0.attempts)
            }
        }
    }

    static func view(_ channel: ServiceDesk.Channel, projectKey: String, warnings: [String]) -> ChannelView {
        ChannelView(
            address: channel.address, project: projectKey, protocol: channel.protocol, provider: channel.provider,
            host: channel.host, port: channel.port, tls: channel.tls, username: channel.username,
            authMethod: channel.authMethod, extraAddresses: channel.extraAddresses, enabled: channel.enabled,
            linkedAt: channel.linkedAt, warnings: warnings)
    }

    static func view(_ status: ChannelStatus) -> ChannelStatusView {
        ChannelStatusView(
            address: status.address, state: status.state, detail: status.detail, retryAt: status.retryAt,
            lastSuccessAt: status.lastSuccessAt, lastError: status.lastError, processedToday: status.processedToday)
    }

    static func view(_ relay: RelayStatus, outbox: OutboxCounts) -> RelayStatusView {
        RelayStatusView(
            state: relay.state, since: relay.since, lastDeliveryAt: relay.lastDeliveryAt, failures: relay.failures,
            retryAt: relay.retryAt, serverText: relay.diagnosis?.serverText, diagnosis: relay.diagnosis?.summary,
            fix: relay.diagnosis?.fix, cause: relay.diagnosis?.cause.rawValue,
            unrecordedDeliveries: relay.unrecordedDeliveries, pending: outbox.pending, due: outbox.due,
            failed: outbox.failed, oldestPendingAt: nil)
    }

    /// `smtp set`'s test: the relay's login and our sender, as the notifier will use them; a token that cannot be
    /// read is a failed step too. `grantToken`: the access token of the sign-in the relay is being set with.
    static func testRelay(
        _ endpoint: MailServerEndpoint, from: String, username: String?, secret: String?, authMethod: AuthMethod,
        grantToken: String? = nil, logger: Logger
    ) async -> ChannelTestReport {
        var credentials: MailCredentials?
        if let username, let grantToken {
            // A sign-in just finished: its access token, before the grant is stored.
            credentials = .oauth2(username: username, accessToken: grantToken)
        } else if let username {
            do {
                credentials = try await MailboxCredentials.resolve(
                    username: username, secret: secret ?? "", method: authMethod)
            } catch {
                let diagnosis = RelayDiagnosis.diagnose(error)
                return ChannelTestReport(
                    steps: [.init(name: "Read the relay's credentials", ok: false, detail: diagnosis.summary)],
                    diagnosis: diagnosis.reportDiagnosis)
            }
        }
        return await RelayTester().test(
            ChannelTestTarget.SMTPRelay(endpoint: endpoint, credentials: credentials, from: from), logger: logger)
    }

    func mailboxStatus(_ address: String) async -> ChannelStatusView? {
        await statusBoard.all().first { $0.address == address }.map(Self.view)
    }

}

func decode<T: Decodable>(_ type: T.Type, _ request: Request, _ context: AdminRequestContext) async throws -> T {
    let buffer = try await request.body.collect(upTo: 1 << 20)
    do {
        return try AdminJSON.decoder().decode(T.self, from: Data(buffer: buffer))
    } catch {
        throw DeskError(.invalid, "the request body is not valid: \(error)")
    }
}
