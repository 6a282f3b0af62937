import EmailChannel
import Foundation
import Hummingbird
import ServiceDesk

/// `/v1/oauth/flows`: the sign-ins the CLI starts and follows (the server runs them, so the client secret never
/// leaves it), and `POST /v1/channels/{address}/reauthorize`, which swaps a channel's grant for a finished one's.
struct OAuthFlowRoutes: Sendable {
    let store: DeskStore
    let flows: OAuthFlows
    let linker: MailboxLinker
    let supervisor: ChannelSupervisor
    let tokenKeeper: OAuthTokenKeeper

    func addRoutes(flows group: RouterGroup<AdminRequestContext>, channels: RouterGroup<AdminRequestContext>) {
        group.post { request, context in
            let body = try await request.decode(as: OAuthFlowBody.self, context: context)
            let kind: OAuthFlows.Kind
            switch body.signIn {
            case .device: kind = .device
            case .browser:
                guard let redirectURI = body.redirectURI else {
                    throw DeskError(.invalid, "a browser sign-in needs the CLI's loopback redirect address")
                }
                kind = .browser(redirectURI: redirectURI)
            }
            let started = try await flows.start(appName: body.app, kind: kind, loginHint: body.loginHint)
            return created(
                OAuthFlowStarted(
                    id: started.id, app: started.appName, signIn: body.signIn, userCode: started.device?.userCode,
                    verificationURI: started.device?.verificationURI,
                    verificationURIComplete: started.device?.verificationURIComplete, message: started.device?.message,
                    authorizationURL: started.authorizationURL, state: started.state, expiresAt: started.expiresAt))
        }
        group.get(":id") { _, context in
            let id = try context.parameters.require("id")
            return OAuthFlowProgressView(id: id, try await flows.progress(id))
        }
        group.post(":id/code") { request, context in
            let id = try context.parameters.require("id")
            let body = try await request.decode(as: OAuthFlowCodeBody.self, context: context)
            return OAuthFlowProgressView(id: id, try await flows.submitCode(id, code: body.code, state: body.state))
        }
        group.delete(":id") { _, context in
            let id = try context.parameters.require("id")
            await flows.complete(id)
            return OAuthFlowProgressView(id: id, .failed("cancelled"))
        }
        channels.post(":address/reauthorize") { request, context in
            let body = try await request.decode(as: ReauthorizeBody.self, context: context)
            let address = try context.parameters.require("address")
            let channel = try await flows.withFreshGrant(body.oauthFlow) { [linker] in
                try await linker.reauthorize(address: address, grant: $0)
            }
            await flows.complete(body.oauthFlow)
            await tokenKeeper.grantsChanged()
            // The mailbox starts again with the new grant, from where it stood.
            if let id = channel.id { await supervisor.restart(channelId: id) }
            let projectKey = try await store.runnableChannel(address: channel.address).projectKey
            return ChannelView(channel, projectKey: projectKey, warnings: [])
        }
    }
}

extension OAuthFlowStarted: ResponseEncodable {}
extension OAuthFlowProgressView: ResponseEncodable {}
