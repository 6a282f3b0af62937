import Foundation
import Logging
import MailClients
import OAuthTestServer
import ServiceDesk
import Testing

@testable import EmailChannel

/// A finished sign-in's grant as the link takes it, against a real OAuth 2.0 server on 127.0.0.1 that rotates refresh
/// tokens: an access token that aged past its refresh-due time before the login is renewed first, and one the mail
/// server refuses is renewed once and the login tried again.
@Suite("OAuth sign-in grants", .timeLimit(.minutes(1)))
struct OAuthFlowsTests {
    static let user = "help@oauth.test"
    static let logger = Logger(label: "OAuthFlowsTests")

    /// An approved device flow on a server that issues tokens living `lifetime` seconds.
    static func approvedFlow(lifetime: Int) async throws -> (OAuthTestServer, OAuthFlows, String) {
        var configuration = OAuthTestServerConfiguration()
        configuration.pollingInterval = 1
        configuration.accessTokenLifetime = lifetime
        configuration.refreshTokenRotation = .rotate
        let server = try await OAuthTestServer.start(configuration)
        server.register(OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: ["imap", "offline_access"]))
        let store = try DeskStore.inMemory()
        _ = try await store.addOAuthApp(
            OAuthAppDraft(
                name: "entra", provider: .custom, clientId: "desk-ms", clientSecret: nil, tenant: nil,
                authorizationURL: nil, tokenURL: server.tokenURL, deviceAuthorizationURL: server.deviceAuthorizationURL,
                scopes: ["imap", "offline_access"], caFile: nil))
        let flows = OAuthFlows(store: store, logger: logger)
        let started = try await flows.start(appName: "entra", kind: .device, loginHint: nil)
        try server.approve(userCode: try #require(started.device?.userCode), as: user)
        let deadline = ContinuousClock.now + .seconds(20)
        while try await flows.progress(started.id) != .approved {
            guard ContinuousClock.now < deadline else { throw OAuthFlowsTestError("the sign-in was not approved") }
            try await Task.sleep(for: .milliseconds(100))
        }
        return (server, flows, started.id)
    }

    struct OAuthFlowsTestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    @Test("a fresh grant is handed out as signed in; one past its refresh-due time is renewed, rotation kept")
    func renewedWhenDue() async throws {
        let (server, flows, id) = try await Self.approvedFlow(lifetime: 3600)
        defer { Task { await server.stop() } }
        let first = try await flows.grant(id)
        #expect(try await flows.grant(id) == first, "a fresh token is not refreshed")
        #expect(server.refreshCount(of: Self.user) == 0)

        let (short, shortFlows, shortId) = try await Self.approvedFlow(lifetime: 2)
        defer { Task { await short.stop() } }
        let signedIn = try await shortFlows.grant(shortId)
        // Due at 3/4 of a 2 s life: past it, the grant handed to the link carries a new token.
        try await Task.sleep(for: .milliseconds(1_700))
        let renewed = try await shortFlows.grant(shortId)
        #expect(renewed.tokens.accessToken != signedIn.tokens.accessToken)
        #expect(short.refreshCount(of: Self.user) == 1)
        let live = try #require(short.grants(of: Self.user).first)
        #expect(live.validRefreshTokens == [renewed.tokens.refreshToken], "the rotated refresh token is the one kept")
        #expect(live.activeAccessTokens.contains(renewed.tokens.accessToken))
    }

    @Test("a login that refuses the access token is tried once more with a renewed one; other failures are not")
    func renewedOnceWhenRefused() async throws {
        let (server, flows, id) = try await Self.approvedFlow(lifetime: 3600)
        defer { Task { await server.stop() } }
        let signedIn = try await flows.grant(id)
        let seen = Seen()
        let stored = try await flows.withFreshGrant(id) { grant in
            await seen.add(grant.tokens.accessToken)
            if await seen.count == 1 {
                throw MailClientError(
                    .authenticationFailed, "the server refused the token", serverText: "[AUTHENTICATIONFAILED]",
                    oauthFailure: OAuthBearerFailure(status: "invalid_token"))
            }
            return grant
        }
        #expect(await seen.tokens.first == signedIn.tokens.accessToken)
        #expect(await seen.count == 2)
        #expect(stored.tokens.accessToken != signedIn.tokens.accessToken, "the renewed grant is the one stored")
        #expect(server.refreshCount(of: Self.user) == 1)

        // A refusal that is not about the token (a wrong host, a refused password) is not retried.
        let attempts = Seen()
        await #expect(throws: MailClientError.self) {
            _ = try await flows.withFreshGrant(id) { grant -> OAuthFlows.Grant in
                await attempts.add(grant.tokens.accessToken)
                throw MailClientError(.connectionRefused, "nothing listens")
            }
        }
        #expect(await attempts.count == 1)
        #expect(server.refreshCount(of: Self.user) == 1)
    }

    actor Seen {
        var tokens: [String] = []
        var count: Int { tokens.count }
        func add(_ token: String) { tokens.append(token) }
    }
}
