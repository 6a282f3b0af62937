import Foundation
import Logging
import OAuthTestServer
import ServiceDesk
import Testing

@testable import EmailChannel

/// The token keeper against a real OAuth 2.0 server on 127.0.0.1 (rotating refresh tokens, Microsoft-style errors)
/// and a real in-memory store.
@Suite("OAuth token keeper", .timeLimit(.minutes(1)))
struct OAuthTokenKeeperTests {
    static let user = "help@oauth.test"
    static let logger = Logger(label: "OAuthTokenKeeperTests")

    /// A store with one OAuth channel whose grant the server issued; its owner.
    static func desk(_ server: OAuthTestServer, expiresIn: TimeInterval) async throws -> (
        DeskStore, OAuthGrantOwner
    ) {
        server.register(OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: ["imap", "offline_access"]))
        let store = try DeskStore.inMemory()
        _ = try await store.createProject(key: "SD", name: "Desk", signup: .public)
        _ = try await store.addRequestType(
            projectKey: "SD", name: "Help",
            fields: [
                RequestField(name: "summary", visible: true, required: true),
                RequestField(name: "description", visible: true, required: true),
            ])
        let app = try await store.addOAuthApp(
            OAuthAppDraft(
                name: "entra", provider: .custom, clientId: "desk-ms", clientSecret: nil, tenant: nil,
                authorizationURL: nil, tokenURL: server.tokenURL, deviceAuthorizationURL: server.deviceAuthorizationURL,
                scopes: ["imap", "offline_access"], caFile: nil))
        let issued = try server.issueTokens(clientID: "desk-ms", user: user)
        let tokens = OAuthTokenSet(
            accessToken: issued.accessToken, refreshToken: try #require(issued.refreshToken),
            accessExpiresAt: Date().addingTimeInterval(expiresIn))
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: user, protocol: .imap, host: "127.0.0.1", port: 1, tls: .none, caFile: nil,
                username: user, password: "", requestTypeName: "Help", authMethod: .oauth2App),
            watermark: LinkWatermark(uidValidity: 1, uidNext: 1), grant: (try #require(app.id), tokens))
        return (store, .channel(try #require(channel.id)))
    }

    @Test("a fresh token is handed out as stored; one due is refreshed once, however many logins ask at once")
    func singleFlight() async throws {
        let server = try await OAuthTestServer.start()
        defer { Task { await server.stop() } }
        let (store, owner) = try await Self.desk(server, expiresIn: 3600)
        let keeper = OAuthTokenKeeper(store: store, logger: Self.logger)
        let stored = try #require(try await store.oauthGrant(for: owner)?.accessToken)
        #expect(try await keeper.accessToken(for: owner) == stored)
        #expect(server.refreshCount(of: Self.user) == 0)

        // Expired: eight logins at once get one refresh between them, and the same new token.
        let (expired, expiredOwner) = try await Self.desk(server, expiresIn: -10)
        let expiredKeeper = OAuthTokenKeeper(store: expired, logger: Self.logger)
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await expiredKeeper.accessToken(for: expiredOwner) } }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(tokens.count == 1)
        #expect(server.refreshCount(of: Self.user) == 1)
        let after = try #require(try await expired.oauthGrant(for: expiredOwner))
        #expect(after.refreshCount == 1)
        #expect(tokens.first == after.accessToken)
    }

    @Test("rotated refresh tokens are kept: each refresh is sent with the one the last refresh brought")
    func rotation() async throws {
        let server = try await OAuthTestServer.start()
        defer { Task { await server.stop() } }
        let (store, owner) = try await Self.desk(server, expiresIn: 3600)
        let keeper = OAuthTokenKeeper(store: store, logger: Self.logger)
        var seen: Set<String> = []
        for round in 1...3 {
            seen.insert(try await keeper.accessToken(for: owner, forceRefresh: true))
            #expect(server.refreshCount(of: Self.user) == round)
        }
        #expect(seen.count == 3)
        let grant = try #require(try await store.oauthGrant(for: owner))
        #expect(server.grants(of: Self.user).first?.validRefreshTokens == [grant.refreshToken])
    }

    @Test("a revoked grant is recorded with Microsoft's code explained, the owner is told, and it is not tried again")
    func revoked() async throws {
        let server = try await OAuthTestServer.start()
        defer { Task { await server.stop() } }
        let (store, owner) = try await Self.desk(server, expiresIn: 3600)
        let keeper = OAuthTokenKeeper(store: store, logger: Self.logger)
        let told = Told()
        await keeper.onGrantFailure { await told.add($0) }
        #expect(server.revokeGrants(of: Self.user, reason: .passwordChanged) == 1)
        do {
            _ = try await keeper.accessToken(for: owner, forceRefresh: true)
            Issue.record("a revoked grant gave a token")
        } catch let error as EmailChannelError {
            #expect(error.code == .grantRefused)
            #expect(error.message.contains("AADSTS50173"), "\(error.message)")
            #expect(error.message.contains("password"), "\(error.message)")
            #expect(error.message.contains("postdesk channel reauthorize \(Self.user)"), "\(error.message)")
        }
        #expect(await told.owners == [owner])
        #expect(try await store.workingOAuthGrants().isEmpty)
        let refreshes = server.refreshCount(of: Self.user)
        await #expect(throws: EmailChannelError.self) { try await keeper.accessToken(for: owner) }
        #expect(server.refreshCount(of: Self.user) == refreshes)
    }

    @Test("a provider that cannot be reached is a transient failure: nothing is recorded against the grant")
    func unreachable() async throws {
        let server = try await OAuthTestServer.start()
        let (store, owner) = try await Self.desk(server, expiresIn: -10)
        await server.stop()
        let keeper = OAuthTokenKeeper(store: store, logger: Self.logger)
        do {
            _ = try await keeper.accessToken(for: owner)
            Issue.record("a token came from a stopped server")
        } catch let error as EmailChannelError {
            #expect(error.code == .credentialUnavailable, "\(error)")
        }
        #expect(try await store.workingOAuthGrants().count == 1)
    }

    @Test("refreshes fall due ahead of expiry: five minutes before, or at 3/4 of a short token's life")
    func refreshDue() throws {
        let issued = Date(timeIntervalSince1970: 1_000_000)
        func due(life: TimeInterval?) -> Date {
            OAuthTokenKeeper.refreshDue(issuedAt: issued, expiresAt: life.map { issued.addingTimeInterval($0) })
        }
        #expect(due(life: 3600) == issued.addingTimeInterval(3300))
        #expect(due(life: 60) == issued.addingTimeInterval(45))
        // No expires_in: an hour is assumed.
        #expect(due(life: nil) == issued.addingTimeInterval(3300))
    }
}

/// Collects the owners the keeper told of a failed grant.
private actor Told {
    var owners: [OAuthGrantOwner] = []
    func add(_ owner: OAuthGrantOwner) { owners.append(owner) }
}
