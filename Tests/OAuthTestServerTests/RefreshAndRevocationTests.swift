import Foundation
import OAuthTestServer
import Testing

@Suite("OAuth test server: refresh with rotation (RFC 6749 §6), revocation (RFC 7009), introspection (RFC 7662)")
struct RefreshAndRevocationTests {
    @Test("each refresh rotates the refresh token, and the old one is refused with invalid_grant")
    func rotation() async throws {
        try await withOAuthServer { server in
            let issued = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            let first = try #require(issued.refreshToken)
            let answer = try await refresh(server, first)
            #expect(answer.status == 200)
            let second = try #require(answer.string("refresh_token"))
            #expect(second != first)
            #expect(answer.string("access_token") != issued.accessToken)

            let old = try await refresh(server, first)
            #expect(old.status == 400)
            #expect(old.error == "invalid_grant")
            #expect(old.errorDescription?.hasPrefix("AADSTS9002313: ") == true)

            let third = try await refresh(server, second)
            #expect(third.status == 200)
            #expect(server.refreshCount(of: "help@oauth.test") == 2)
            #expect(
                server.grants(of: "help@oauth.test").first?.validRefreshTokens == [
                    third.string("refresh_token") ?? "missing"
                ])
        }
    }

    @Test("rotation can keep the old refresh token valid, or keep one refresh token and send none")
    func otherRotations() async throws {
        var keeping = OAuthTestServerConfiguration()
        keeping.refreshTokenRotation = .rotateKeepingOld
        try await withOAuthServer(keeping) { server in
            let first = try #require(try server.issueTokens(clientID: "desk-ms", user: "a@oauth.test").refreshToken)
            let answer = try await refresh(server, first)
            #expect(answer.string("refresh_token") != nil)
            #expect(try await refresh(server, first).status == 200)
        }
        var reuse = OAuthTestServerConfiguration()
        reuse.refreshTokenRotation = .reuse
        try await withOAuthServer(reuse) { server in
            let only = try #require(
                try server.issueTokens(clientID: "desk-google-tv", user: "b@gmail.test").refreshToken)
            let answer = try await refresh(server, only, clientID: "desk-google-tv")
            #expect(answer.status == 200)
            #expect(answer.json["refresh_token"] == nil)
            #expect(try await refresh(server, only, clientID: "desk-google-tv").status == 200)
        }
    }

    @Test("a narrower scope on refresh is granted, a wider one is invalid_scope, another client's token is refused")
    func refreshScope() async throws {
        try await withOAuthServer { server in
            let issued = try server.issueTokens(
                clientID: "desk-ms", user: "help@oauth.test",
                scopes: ["https://outlook.office.com/IMAP.AccessAsUser.All", "offline_access"])
            let token = try #require(issued.refreshToken)
            let wider = try await OAuthHTTP.post(
                server.tokenURL,
                [
                    ("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "desk-ms"),
                    ("scope", "https://outlook.office.com/SMTP.Send"),
                ])
            #expect(wider.error == "invalid_scope")
            #expect(try await refresh(server, token, clientID: "desk-google-tv").error == "invalid_grant")
            let narrower = try await OAuthHTTP.post(
                server.tokenURL,
                [
                    ("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "desk-ms"),
                    ("scope", "https://outlook.office.com/IMAP.AccessAsUser.All"),
                ])
            #expect(narrower.string("scope") == "https://outlook.office.com/IMAP.AccessAsUser.All")
        }
    }

    @Test("short-lived access tokens: active until expires_in passes, then inactive; a refresh gives a new one")
    func expiry() async throws {
        try await withOAuthServer { server in
            server.setAccessTokenLifetime(seconds: 300)
            let issued = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            #expect(issued.expiresIn == 300)
            let active = try await introspect(server, issued.accessToken)
            #expect(active.json["active"] as? Bool == true)
            #expect(active.string("username") == "help@oauth.test")
            #expect(active.string("client_id") == "desk-ms")
            #expect(active.string("scope") == msScopes.joined(separator: " "))
            #expect(active.string("token_type") == "Bearer")
            let sub = try #require(active.string("sub"))
            #expect(!sub.isEmpty && sub != "help@oauth.test")
            let exp = try #require(active.int("exp"))
            #expect(abs(Double(exp) - server.clock.now.timeIntervalSince1970 - 300) < 5)

            server.clock.advance(by: .seconds(301))
            let expired = try await introspect(server, issued.accessToken)
            #expect(expired.json as NSDictionary == ["active": false] as NSDictionary)
            let renewed = try await refresh(server, try #require(issued.refreshToken))
            #expect(
                try await introspect(server, try #require(renewed.string("access_token"))).json["active"] as? Bool
                    == true)
            // A refresh token is not a bearer token for the mail server.
            #expect(
                try await introspect(server, try #require(renewed.string("refresh_token"))).json["active"] as? Bool
                    == false)
        }
    }

    @Test("introspection needs the resource's credentials, by HTTP Basic or in the body")
    func introspectionAuthentication() async throws {
        try await withOAuthServer { server in
            let issued = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            let anonymous = try await OAuthHTTP.post(server.introspectionURL, [("token", issued.accessToken)])
            #expect(anonymous.status == 401)
            let wrong = try await OAuthHTTP.post(
                server.introspectionURL, [("token", issued.accessToken)], basic: ("dovecot", "wrong"))
            #expect(wrong.status == 401)
            let inBody = try await OAuthHTTP.post(
                server.introspectionURL,
                [
                    ("token", issued.accessToken), ("client_id", "dovecot"),
                    ("client_secret", "dovecot-introspection-secret"),
                ])
            #expect(inBody.json["active"] as? Bool == true)
            #expect(try await introspect(server, "at.unknown").json["active"] as? Bool == false)
        }
    }

    @Test("RFC 7009: revoking a refresh token ends the grant and its access tokens; an access token only itself")
    func revocation() async throws {
        try await withOAuthServer { server in
            let one = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            let revokeAccess = try await OAuthHTTP.post(
                server.revocationURL, [("token", one.accessToken), ("client_id", "desk-ms")])
            #expect(revokeAccess.status == 200)
            #expect(try await introspect(server, one.accessToken).json["active"] as? Bool == false)
            let renewed = try await refresh(server, try #require(one.refreshToken))
            #expect(renewed.status == 200)
            let access = try #require(renewed.string("access_token"))

            let revokeRefresh = try await OAuthHTTP.post(
                server.revocationURL,
                [
                    ("token", try #require(renewed.string("refresh_token"))), ("token_type_hint", "refresh_token"),
                    ("client_id", "desk-ms"),
                ])
            #expect(revokeRefresh.status == 200)
            #expect(try await introspect(server, access).json["active"] as? Bool == false)
            let after = try await refresh(server, try #require(renewed.string("refresh_token")))
            #expect(after.error == "invalid_grant")
            #expect(after.errorDescription?.hasPrefix("AADSTS70000: ") == true)
            #expect(server.grants(of: "help@oauth.test").first?.isRevoked == true)

            // §2.2: an unknown token is not an error; another client may not revoke this one's tokens.
            let unknown = try await OAuthHTTP.post(
                server.revocationURL, [("token", "rt.nope"), ("client_id", "desk-ms")])
            #expect(unknown.status == 200)
            let two = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            let foreign = try await OAuthHTTP.post(
                server.revocationURL, [("token", two.accessToken), ("client_id", "desk-google-tv")])
            #expect(foreign.error == "unauthorized_client")
            #expect(try await introspect(server, two.accessToken).json["active"] as? Bool == true)
        }
    }

    @Test("the password-change hook revokes the user's grants: AADSTS50173 for Microsoft, Google's own words")
    func passwordChanged() async throws {
        try await withOAuthServer { server in
            let ms = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            let google = try server.issueTokens(clientID: "desk-google-tv", user: "help@oauth.test")
            let other = try server.issueTokens(clientID: "desk-ms", user: "other@oauth.test")
            #expect(server.revokeGrants(of: "help@oauth.test") == 2)

            let msAnswer = try await refresh(server, try #require(ms.refreshToken))
            #expect(msAnswer.status == 400)
            #expect(msAnswer.error == "invalid_grant")
            #expect(msAnswer.errorDescription?.hasPrefix("AADSTS50173: ") == true)
            #expect((msAnswer.json["error_codes"] as? [Int]) == [50173])
            #expect(msAnswer.string("trace_id") != nil && msAnswer.string("correlation_id") != nil)
            let googleAnswer = try await refresh(server, try #require(google.refreshToken), clientID: "desk-google-tv")
            #expect(
                googleAnswer.json as NSDictionary == [
                    "error": "invalid_grant", "error_description": "Token has been expired or revoked.",
                ] as NSDictionary)
            #expect(try await introspect(server, ms.accessToken).json["active"] as? Bool == false)
            #expect(try await refresh(server, try #require(other.refreshToken)).status == 200)

            let again = try server.issueTokens(clientID: "desk-ms", user: "help@oauth.test")
            server.revokeGrants(of: "help@oauth.test", reason: .expiredAfterInactivity)
            let inactive = try await refresh(server, try #require(again.refreshToken))
            #expect(inactive.errorDescription?.hasPrefix("AADSTS700082: ") == true)
        }
    }
}
