import Foundation
import OAuthClient
import OAuthTestServer
import Testing

@Suite("OAuthClient: refresh (RFC 6749 §6), revoked grants and client authentication against the OAuth test server")
struct RefreshClientTests {
    @Test("rotation: each refresh gives a new refresh token and the old one is then invalidGrant (AADSTS9002313)")
    func rotation() async throws {
        try await withOAuthServer { server in
            let issued = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            let first = try #require(issued.refreshToken)
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let tokens = try await client.refresh(refreshToken: first)
            let second = try #require(tokens.refreshToken)
            #expect(second != first)
            #expect(tokens.accessToken != issued.accessToken)
            #expect(tokens.expiresIn == 3600)
            #expect(server.grants(of: "help@oauth.test").first?.validRefreshTokens == [second])

            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: first) }
            #expect(error?.kind == .invalidGrant)
            #expect(error?.errorCode == "invalid_grant")
            #expect(error?.diagnosis.aadstsCode == 9_002_313)
            #expect(error?.isTransient == false)
            #expect(error?.description.contains(first) == false)
        }
    }

    @Test(
        "Microsoft style sends the configured scope with a refresh, so a narrower configuration gets a narrower token")
    func microsoftSendsScope() async throws {
        try await withOAuthServer { server in
            let refresh = try #require(try server.issueTokens(clientID: "desk-ms", user: "s@oauth.test").refreshToken)
            let narrow = ["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"]
            let client = try OAuthTokenClient(
                configuration: configuration(server, .microsoft, id: "desk-ms", scopes: narrow))
            #expect(try await client.refresh(refreshToken: refresh).scope == narrow.joined(separator: " "))
            // The custom style does not repeat it: the grant's whole scope comes back.
            let custom = try OAuthTokenClient(
                configuration: configuration(server, .custom, id: "desk-ms", scopes: narrow))
            let grant = try #require(server.grants(of: "s@oauth.test").first?.validRefreshTokens.first)
            #expect(try await custom.refresh(refreshToken: grant).scope == msScopes.joined(separator: " "))
        }
    }

    @Test("reuse: no refresh_token in the answer means keep the old one (nil), and the old one keeps working")
    func reuse() async throws {
        var settings = OAuthTestServerConfiguration()
        settings.refreshTokenRotation = .reuse
        try await withOAuthServer(settings) { server in
            let only = try #require(
                try server.issueTokens(clientID: "desk-google-tv", user: "b@gmail.test").refreshToken)
            let client = try OAuthTokenClient(configuration: configuration(server, .google, id: "desk-google-tv"))
            let first = try await client.refresh(refreshToken: only)
            #expect(first.refreshToken == nil)
            let second = try await client.refresh(refreshToken: only)
            #expect(second.refreshToken == nil)
            #expect(second.accessToken != first.accessToken)
            #expect(server.refreshCount(of: "b@gmail.test") == 2)
        }
    }

    @Test("a grant revoked by a password change is invalidGrant diagnosed as AADSTS50173 with the reauthorize fix")
    func passwordChanged() async throws {
        try await withOAuthServer { server in
            let refresh = try #require(try server.issueTokens(clientID: "desk-ms", user: "p@oauth.test").refreshToken)
            #expect(server.revokeGrants(of: "p@oauth.test", reason: .passwordChanged) == 1)
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: refresh) }
            #expect(error?.kind == .invalidGrant)
            #expect(error?.httpStatus == 400)
            #expect(error?.diagnosis.aadstsCode == 50173)
            #expect(error?.diagnosis.summary.contains("password") == true)
            #expect(error?.diagnosis.fix == "reauthorize the mailbox (postdesk channel reauthorize ADDRESS)")
            #expect(error?.diagnosis.providerText?.hasPrefix("invalid_grant: AADSTS50173: ") == true)
            #expect(error?.errorDescription?.contains("changed or reset their password") == true)
        }
    }

    @Test("inactivity and revocation get their own Entra ID diagnoses; Google's revoked token its list of causes")
    func otherRevocations() async throws {
        try await withOAuthServer { server in
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            for (reason, code) in [(OAuthRevocationReason.expiredAfterInactivity, 700082), (.revoked, 70000)] {
                let user = "\(code)@oauth.test"
                let refresh = try #require(try server.issueTokens(clientID: "desk-ms", user: user).refreshToken)
                server.revokeGrants(of: user, reason: reason)
                let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: refresh) }
                #expect(error?.diagnosis.aadstsCode == code)
                #expect(error?.kind == .invalidGrant)
            }
            let google = try OAuthTokenClient(configuration: configuration(server, .google, id: "desk-google-tv"))
            let refresh = try #require(
                try server.issueTokens(clientID: "desk-google-tv", user: "g@gmail.test").refreshToken)
            server.revokeGrants(of: "g@gmail.test")
            let error = await #expect(throws: OAuthError.self) { try await google.refresh(refreshToken: refresh) }
            #expect(error?.kind == .invalidGrant)
            #expect(error?.errorDescription == "Token has been expired or revoked.")
            #expect(error?.diagnosis.aadstsCode == nil)
            #expect(error?.diagnosis.summary.contains("7 days") == true)
        }
    }

    @Test("confidential clients: the custom style by HTTP Basic and Microsoft's in the body are both accepted")
    func confidentialClients() async throws {
        try await withOAuthServer { server in
            let basic = try OAuthTokenClient(
                configuration: configuration(server, .custom, id: "desk-custom", secret: customSecret))
            let r1 = try #require(try server.issueTokens(clientID: "desk-custom", user: "k@oauth.test").refreshToken)
            #expect(try await basic.refresh(refreshToken: r1).refreshToken != nil)

            let body = try OAuthTokenClient(
                configuration: configuration(server, .microsoft, id: "desk-ms-conf", secret: "ms-secret"))
            let r2 = try #require(try server.issueTokens(clientID: "desk-ms-conf", user: "m@oauth.test").refreshToken)
            #expect(try await body.refresh(refreshToken: r2).refreshToken != nil)

            // A wrong secret is invalidClient, read as Entra ID's AADSTS7000215.
            let wrong = try OAuthTokenClient(
                configuration: configuration(server, .microsoft, id: "desk-ms-conf", secret: "secret-id-not-value"))
            let error = await #expect(throws: OAuthError.self) { try await wrong.refresh(refreshToken: r2) }
            #expect(error?.kind == .invalidClient)
            #expect(error?.httpStatus == 401)
            #expect(error?.diagnosis.aadstsCode == 7_000_215)
            // An unknown client id is AADSTS700016, a bad scope AADSTS70011.
            let unknown = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "nobody"))
            let missing = await #expect(throws: OAuthError.self) { try await unknown.startDeviceAuthorization() }
            #expect(missing?.diagnosis.aadstsCode == 700016)
            let scoped = try OAuthTokenClient(
                configuration: configuration(server, .microsoft, id: "desk-ms", scopes: ["Mail.ReadWrite"]))
            let scope = await #expect(throws: OAuthError.self) { try await scoped.startDeviceAuthorization() }
            #expect(scope?.kind == .invalidScope)
            #expect(scope?.diagnosis.aadstsCode == 70011)
        }
    }
}
