import EmailChannel
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import OAuthTestServer
import ServiceDesk
import Testing

@testable import AdminAPI

/// `/v1/oauth/flows` and `POST /v1/channels/{address}/reauthorize` through HummingbirdTesting, with the sign-ins run
/// against a real OAuth 2.0 server on 127.0.0.1.
@Suite("OAuth sign-in routes", .timeLimit(.minutes(1)))
struct OAuthFlowRouteTests {
    static let logger = Logger(label: "OAuthFlowRouteTests")

    static func app(_ store: DeskStore) -> some ApplicationProtocol {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())
        let requests = RequestRouter(store: store, logger: logger)
        let supervisor = ChannelSupervisor(
            store: store, router: requests, statusBoard: ChannelStatusBoard(), logger: logger)
        OAuthFlowRoutes(
            store: store, flows: OAuthFlows(store: store, logger: logger),
            linker: MailboxLinker(store: store, logger: logger), supervisor: supervisor,
            tokenKeeper: OAuthTokenKeeper(store: store, logger: logger)
        ).addRoutes(flows: router.group("/v1/oauth/flows"), channels: router.group("/v1/channels"))
        return Application(router: router)
    }

    static func json(_ value: some Encodable) throws -> ByteBuffer {
        ByteBuffer(data: try AdminJSON.encoder().encode(value))
    }

    static func error(_ buffer: ByteBuffer) -> String {
        (try? JSONDecoder().decode([String: String].self, from: Data(buffer: buffer)))?["error"] ?? ""
    }

    @Test("a device sign-in: started with its code, followed while pending, approved; its grant waits to be taken")
    func deviceFlow() async throws {
        var configuration = OAuthTestServerConfiguration()
        configuration.pollingInterval = 1
        let server = try await OAuthTestServer.start(configuration)
        defer { Task { await server.stop() } }
        server.register(OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: ["imap", "offline_access"]))
        let store = try DeskStore.inMemory()
        _ = try await store.addOAuthApp(
            OAuthAppDraft(
                name: "entra", provider: .custom, clientId: "desk-ms", clientSecret: nil, tenant: nil,
                authorizationURL: server.authorizationURL, tokenURL: server.tokenURL,
                deviceAuthorizationURL: server.deviceAuthorizationURL, scopes: ["imap", "offline_access"], caFile: nil))
        try await Self.app(store).test(.router) { client in
            let started = try await client.execute(
                uri: "/v1/oauth/flows", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(OAuthFlowBody(app: "ENTRA", signIn: .device))
            ) { response in
                #expect(response.status == .created)
                return try AdminJSON.decoder().decode(OAuthFlowStarted.self, from: Data(buffer: response.body))
            }
            let code = try #require(started.userCode)
            #expect(started.verificationURI?.hasPrefix(server.baseURL) == true)
            #expect(started.app == "entra")
            try await client.execute(uri: "/v1/oauth/flows/\(started.id)", method: .get) { response in
                let progress = try AdminJSON.decoder().decode(
                    OAuthFlowProgressView.self, from: Data(buffer: response.body))
                #expect(progress.state == .waiting)
            }
            // Reauthorizing with a flow that is not finished is a conflict, and takes nothing.
            try await client.execute(
                uri: "/v1/channels/help@desk.test/reauthorize", method: .post,
                headers: [.contentType: "application/json"],
                body: try Self.json(ReauthorizeBody(oauthFlow: started.id))
            ) { response in
                #expect(response.status == .conflict)
            }
            try server.approve(userCode: code, as: "help@oauth.test")
            var state = OAuthFlowProgressView.State.waiting
            let deadline = ContinuousClock.now + .seconds(20)
            while state == .waiting, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
                state = try await client.execute(uri: "/v1/oauth/flows/\(started.id)", method: .get) { response in
                    try AdminJSON.decoder().decode(OAuthFlowProgressView.self, from: Data(buffer: response.body)).state
                }
            }
            #expect(state == .approved)
            // An unknown channel: 404, and the approved grant is still there for the next try.
            try await client.execute(
                uri: "/v1/channels/nobody@desk.test/reauthorize", method: .post,
                headers: [.contentType: "application/json"], body: try Self.json(ReauthorizeBody(oauthFlow: started.id))
            ) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/v1/oauth/flows/\(started.id)", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/oauth/flows/\(started.id)", method: .delete) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/oauth/flows/\(started.id)", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("refusals: an unknown app, a browser sign-in without a redirect, a wrong state, an unknown flow")
    func refusals() async throws {
        let store = try DeskStore.inMemory()
        _ = try await store.addOAuthApp(
            OAuthAppDraft(
                name: "web", provider: .custom, clientId: "c", clientSecret: nil, tenant: nil,
                authorizationURL: "http://127.0.0.1:9/authorize", tokenURL: "http://127.0.0.1:9/token",
                deviceAuthorizationURL: nil, scopes: ["imap"], caFile: nil))
        try await Self.app(store).test(.router) { client in
            try await client.execute(
                uri: "/v1/oauth/flows", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(OAuthFlowBody(app: "nope", signIn: .device))
            ) { response in
                #expect(response.status == .notFound)
                #expect(Self.error(response.body).contains("oauth app list"))
            }
            try await client.execute(
                uri: "/v1/oauth/flows", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(OAuthFlowBody(app: "web", signIn: .device))
            ) { response in
                #expect(response.status == .badRequest, "the app has no device endpoint")
                #expect(Self.error(response.body).contains("--browser"))
            }
            try await client.execute(
                uri: "/v1/oauth/flows", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(OAuthFlowBody(app: "web", signIn: .browser))
            ) { response in
                #expect(response.status == .badRequest)
            }
            let started = try await client.execute(
                uri: "/v1/oauth/flows", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(
                    OAuthFlowBody(app: "web", signIn: .browser, redirectURI: "http://127.0.0.1:4567/callback"))
            ) { response in
                #expect(response.status == .created)
                return try AdminJSON.decoder().decode(OAuthFlowStarted.self, from: Data(buffer: response.body))
            }
            let url = try #require(started.authorizationURL)
            let state = try #require(started.state)
            #expect(url.contains("code_challenge=") && url.contains("state=\(state)"))
            try await client.execute(
                uri: "/v1/oauth/flows/\(started.id)/code", method: .post, headers: [.contentType: "application/json"],
                body: try Self.json(OAuthFlowCodeBody(code: "c0de", state: "forged"))
            ) { response in
                #expect(response.status == .badRequest)
                #expect(Self.error(response.body).contains("state"))
            }
            try await client.execute(uri: "/v1/oauth/flows/0123456789abcdef", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("Google signs in through the browser by default (its device flow does not grant the Gmail scope)")
    func defaultSignIn() async throws {
        let store = try DeskStore.inMemory()
        let google = try await store.addOAuthApp(
            try OAuthAppBody(name: "g", provider: .google, clientId: "g.apps.googleusercontent.com").draft())
        let microsoft = try await store.addOAuthApp(
            try OAuthAppBody(name: "m", provider: .microsoft, clientId: "m").draft())
        #expect(google.defaultSignIn == .browser)
        #expect(microsoft.defaultSignIn == .device)
    }
}
