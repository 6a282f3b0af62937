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
    /// The desk's nodes and leases, when it is on PostgreSQL.
    var cluster: ClusterQueries? = nil
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
        ChannelImportRoutes(store: store, linker: linker, supervisor: supervisor, logger: logger)
            .addRoutes(to: router.group("/v1/channels"))
        OutboxRoutes(store: store, notifier: notifier).addRoutes(to: router.group("/v1/outbox"))
        ProjectRoutes(store: store).addRoutes(to: router)
        CustomerRoutes(store: store).addRoutes(to: router)
        RequestRoutes(store: store, notifier: notifier).addRoutes(to: router)
        RelayRoutes(store: store, notifier: notifier, flows: flows, tokenKeeper: tokenKeeper, logger: logger)
            .addRoutes(to: router)
        ChannelRoutes(
            store: store, linker: linker, supervisor: supervisor, flows: flows, tokenKeeper: tokenKeeper,
            verifier: verifier, statusBoard: statusBoard, logger: logger
        ).addRoutes(to: router)
        StatusRoutes(
            store: store, notifier: notifier, statusBoard: statusBoard, consoleAddress: consoleAddress,
            cluster: cluster
        )
        .addRoutes(to: router)
        NodeRoutes(store: store, cluster: cluster).addRoutes(to: router)
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
