import Foundation
import GRDB
import Testing

@testable import ServiceDesk

/// A desk with an app registration at a loopback server; the app's id.
private func deskWithApp(on backend: StoreBackend = .sqlite) async throws -> (DeskStore, Int64, appId: Int64) {
    let (store, channelId) = try await makeDesk(on: backend)
    let app = try await store.addOAuthApp(
        OAuthAppDraft(
            name: "entra", provider: .custom, clientId: "desk-ms", clientSecret: "client-secret", tenant: nil,
            authorizationURL: nil, tokenURL: "http://127.0.0.1:9/token", deviceAuthorizationURL: "http://127.0.0.1:9/d",
            scopes: ["imap"], caFile: nil))
    return (store, channelId, try #require(app.id))
}

private func tokens(_ suffix: String, expiresIn: TimeInterval = 3600) -> OAuthTokenSet {
    OAuthTokenSet(
        accessToken: "access-\(suffix)", refreshToken: "refresh-\(suffix)",
        accessExpiresAt: Date().addingTimeInterval(expiresIn))
}

private func oauthDraft(_ address: String) -> ChannelDraft {
    var channel = draft(address: address)
    channel.authMethod = .oauth2App
    channel.password = ""
    return channel
}

@Suite("OAuth 2.0 grants in the store")
struct OAuthGrantStoreTests {
    @Test(
        "a channel linked with a grant stores it in the same transaction, sealed, and opens it for the keeper",
        arguments: StoreBackend.allCases)
    func linkWithGrant(backend: StoreBackend) async throws {
        let (store, _, appId) = try await deskWithApp(on: backend)
        let channel = try await store.linkChannel(
            oauthDraft("oauth@desk.test"), watermark: LinkWatermark(uidValidity: 3, uidNext: 10),
            grant: (appId, tokens("one")))
        let id = try #require(channel.id)
        let grant = try #require(try await store.oauthGrant(for: .channel(id)))
        #expect(grant.refreshToken == "refresh-one")
        #expect(grant.accessToken == "access-one")
        #expect(grant.clientSecret == "client-secret")
        #expect(grant.app.name == "entra")
        #expect(grant.failure == nil)
        // Sealed at rest: neither token is in the table's bytes.
        let raw = try await store.read { db in "\(try SQLRow.fetchAll(db, sql: "SELECT * FROM oauthGrant"))" }
        #expect(!raw.contains("refresh-one") && !raw.contains("access-one") && raw.lowercased().contains("refreshtoken"))
    }

    @Test(
        "a grant goes only with an OAuth 2.0 channel, and an OAuth 2.0 channel only with a grant",
        arguments: StoreBackend.allCases)
    func grantMatchesMethod(backend: StoreBackend) async throws {
        let (store, _, appId) = try await deskWithApp(on: backend)
        await #expect(throws: DeskError.self) {
            try await store.linkChannel(oauthDraft("a@desk.test"), watermark: LinkWatermark(uidValidity: 1, uidNext: 1))
        }
        await #expect(throws: DeskError.self) {
            try await store.linkChannel(
                draft(address: "b@desk.test"), watermark: LinkWatermark(uidValidity: 1, uidNext: 1),
                grant: (appId, tokens("x")))
        }
        #expect(try await store.channels().count == 1)
    }

    @Test(
        "a refresh saves the new access token and the rotated refresh token together, once per grant state",
        arguments: StoreBackend.allCases)
    func refreshRotation(backend: StoreBackend) async throws {
        let (store, _, appId) = try await deskWithApp(on: backend)
        let channel = try await store.linkChannel(
            oauthDraft("oauth@desk.test"), watermark: LinkWatermark(uidValidity: 3, uidNext: 10),
            grant: (appId, tokens("one")))
        let owner = OAuthGrantOwner.channel(try #require(channel.id))
        let grant = try #require(try await store.oauthGrant(for: owner))
        let expires = Date().addingTimeInterval(60)
        #expect(
            try await store.recordOAuthRefresh(
                grantId: grant.id, usedRefreshToken: "refresh-one", accessToken: "access-two",
                rotatedRefreshToken: "refresh-two", accessExpiresAt: expires))
        var after = try #require(try await store.oauthGrant(for: owner))
        #expect(after.refreshToken == "refresh-two")
        #expect(after.accessToken == "access-two")
        #expect(after.refreshCount == 1)
        #expect(after.lastRefreshAt != nil)
        // A refresh made with the token that was rotated away saves nothing: it would undo the rotation.
        #expect(
            try await store.recordOAuthRefresh(
                grantId: grant.id, usedRefreshToken: "refresh-one", accessToken: "stale", rotatedRefreshToken: nil,
                accessExpiresAt: nil) == false)
        after = try #require(try await store.oauthGrant(for: owner))
        #expect(after.accessToken == "access-two")
        // No rotation: the refresh token stays.
        #expect(
            try await store.recordOAuthRefresh(
                grantId: grant.id, usedRefreshToken: "refresh-two", accessToken: "access-three",
                rotatedRefreshToken: nil, accessExpiresAt: nil))
        after = try #require(try await store.oauthGrant(for: owner))
        #expect(after.refreshToken == "refresh-two")
        #expect(after.accessToken == "access-three")
        #expect(after.refreshCount == 2)
    }

    @Test(
        "a refused grant is recorded and leaves the refresh loop; reauthorize replaces it and keeps the watermark",
        arguments: StoreBackend.allCases)
    func failureAndReauthorize(backend: StoreBackend) async throws {
        let (store, passwordChannel, appId) = try await deskWithApp(on: backend)
        let channel = try await store.linkChannel(
            oauthDraft("oauth@desk.test"), watermark: LinkWatermark(uidValidity: 3, uidNext: 10),
            grant: (appId, tokens("one")))
        let id = try #require(channel.id)
        let grant = try #require(try await store.oauthGrant(for: .channel(id)))
        #expect(try await store.workingOAuthGrants().map(\.id) == [grant.id])
        #expect(
            try await store.recordOAuthFailure(grantId: grant.id, usedRefreshToken: "refresh-one", line: "revoked"))
        #expect(try await store.workingOAuthGrants().isEmpty)
        #expect(try await store.oauthGrantSummaries()[.channel(id)]?.failure == "revoked")

        let reauthorized = try await store.reauthorizeChannel(
            address: "OAuth@desk.test", appId: appId, tokens: tokens("two"))
        #expect(reauthorized.uidValidity == 3 && reauthorized.uidNextAtLink == 10)
        let fresh = try #require(try await store.oauthGrant(for: .channel(id)))
        #expect(fresh.failure == nil && fresh.refreshToken == "refresh-two" && fresh.refreshCount == 0)
        // A failure reported for the replaced grant is not recorded against the new one.
        #expect(
            try await store.recordOAuthFailure(grantId: grant.id, usedRefreshToken: "refresh-one", line: "x") == false)

        // A password channel switches to OAuth in place: same row, same watermark, no password kept.
        let switched = try await store.reauthorizeChannel(
            address: "help@desk.test", appId: appId, tokens: tokens("three"))
        #expect(switched.id == passwordChannel)
        #expect(switched.authMethod == .oauth2App)
        #expect(switched.uidValidity == 7)
        #expect(try await store.runnableChannel(id: passwordChannel)?.password == "")
    }

    @Test(
        "an app in use by a channel or the relay is not removed; unused again, it is", arguments: StoreBackend.allCases)
    func removeInUse(backend: StoreBackend) async throws {
        let (store, _, appId) = try await deskWithApp(on: backend)
        _ = try await store.linkChannel(
            oauthDraft("oauth@desk.test"), watermark: LinkWatermark(uidValidity: 3, uidNext: 10),
            grant: (appId, tokens("one")))
        try await store.setSMTP(
            host: "127.0.0.1", port: 25, tls: .none, caFile: nil, fromAddress: "help@desk.test",
            username: "help@desk.test", password: nil, authMethod: .oauth2App, grant: (appId, tokens("relay")))
        #expect(try await store.oauthGrant(for: .relay)?.refreshToken == "refresh-relay")
        do {
            try await store.removeOAuthApp(name: "entra")
            Issue.record("an app in use was removed")
        } catch let error as DeskError {
            #expect(error.code == .conflict)
            #expect(error.message.contains("channel oauth@desk.test"))
            #expect(error.message.contains("the SMTP relay"))
        }
        // The relay back on a password drops its grant; the channel keeps the app in use.
        try await store.setSMTP(
            host: "127.0.0.1", port: 25, tls: .none, caFile: nil, fromAddress: "help@desk.test", username: nil,
            password: nil)
        #expect(try await store.oauthGrant(for: .relay) == nil)
        await #expect(throws: DeskError.self) { try await store.removeOAuthApp(name: "entra") }
    }
}
