import EmailChannel
import Hummingbird
import Logging
import PostdeskWire
import ServiceDesk

/// `/v1/channels`: linking a mailbox to a project, the channels, and testing and verifying one.
struct ChannelRoutes: Sendable {
    let store: DeskStore
    let linker: MailboxLinker
    let supervisor: ChannelSupervisor
    let flows: OAuthFlows
    let tokenKeeper: OAuthTokenKeeper
    let verifier: ChannelVerifier
    let statusBoard: ChannelStatusBoard
    let logger: Logger

    func addRoutes(to router: Router<AdminRequestContext>) {
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
            return created(ChannelView(linked.channel, projectKey: projectKey.uppercased(), warnings: linked.warnings))
        }
        router.get("/v1/channels") { _, _ in
            try await store.channels().map { ChannelView($0.channel, projectKey: $0.projectKey, warnings: []) }
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
    }

    func mailboxStatus(_ address: String) async -> ChannelStatusView? {
        await statusBoard.all().first { $0.address == address }.map(ChannelStatusView.init)
    }
}
