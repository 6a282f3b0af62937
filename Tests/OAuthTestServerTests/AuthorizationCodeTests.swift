import Foundation
import OAuthTestServer
import Testing

@Suite("OAuth test server: authorization code with PKCE (RFC 6749 §4.1, RFC 7636, RFC 8252)")
struct AuthorizationCodeTests {
    static let redirect = "http://127.0.0.1:49152/callback"

    static func authorizeURL(
        _ server: OAuthTestServer, clientID: String = "desk-ms", redirect: String = redirect, challenge: String?,
        method: String? = "S256", state: String = "st-1"
    ) -> String {
        var query = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirect), ("state", state),
            ("scope", "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"),
        ]
        if let challenge { query.append(("code_challenge", challenge)) }
        if let method { query.append(("code_challenge_method", method)) }
        return server.authorizationURL + "?" + OAuthHTTP.encode(query)
    }

    static func redeem(
        _ server: OAuthTestServer, code: String, verifier: String?, clientID: String = "desk-ms",
        redirect: String = redirect
    ) async throws -> OAuthHTTPAnswer {
        var form = [
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect), ("client_id", clientID),
        ]
        if let verifier { form.append(("code_verifier", verifier)) }
        return try await OAuthHTTP.post(server.tokenURL, form)
    }

    @Test("S256: the code comes back to the loopback redirect with the state, and only the right verifier redeems it")
    func s256() async throws {
        try await withOAuthServer { server in
            let (verifier, challenge) = pkcePair()
            let page = try await OAuthHTTP.get(Self.authorizeURL(server, challenge: challenge))
            #expect(page.status == 200)  // no decision yet: a sign-in page, no redirect
            #expect(page.headers.first(name: "Location") == nil)

            server.setAuthorizationDecision(.approve(user: "help@oauth.test"), forClient: "desk-ms")
            let answer = try await OAuthHTTP.get(Self.authorizeURL(server, challenge: challenge))
            #expect(answer.status == 302)
            #expect(answer.headers.first(name: "Location")?.hasPrefix(Self.redirect + "?") == true)
            #expect(answer.locationQuery["state"] == "st-1")
            let code = try #require(answer.locationQuery["code"])

            let wrong = try await Self.redeem(server, code: code, verifier: pkcePair().verifier)
            #expect(wrong.status == 400)
            #expect(wrong.error == "invalid_grant")
            #expect(wrong.errorDescription?.hasPrefix("AADSTS501481: ") == true)
            let missing = try await Self.redeem(server, code: code, verifier: nil)
            #expect(missing.error == "invalid_grant")
            let otherRedirect = try await Self.redeem(
                server, code: code, verifier: verifier, redirect: "http://127.0.0.1:49153/callback")
            #expect(otherRedirect.error == "invalid_grant")

            let tokens = try await Self.redeem(server, code: code, verifier: verifier)
            #expect(tokens.status == 200)
            #expect(tokens.string("scope") == "https://outlook.office.com/IMAP.AccessAsUser.All offline_access")
            let access = try #require(tokens.string("access_token"))
            #expect(try await introspect(server, access).json["active"] as? Bool == true)

            // RFC 6749 §4.1.2: a code used twice is refused and the tokens it gave are revoked.
            let reused = try await Self.redeem(server, code: code, verifier: verifier)
            #expect(reused.errorDescription?.hasPrefix("AADSTS54005: ") == true)
            #expect(try await introspect(server, access).json["active"] as? Bool == false)
        }
    }

    @Test("plain: the verifier is the challenge")
    func plain() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.approve(user: "help@oauth.test"), forClient: "desk-ms")
            let (verifier, _) = pkcePair()
            let answer = try await OAuthHTTP.get(Self.authorizeURL(server, challenge: verifier, method: "plain"))
            let code = try #require(answer.locationQuery["code"])
            #expect(try await Self.redeem(server, code: code, verifier: verifier + "x").error == "invalid_grant")
            #expect(try await Self.redeem(server, code: code, verifier: verifier).status == 200)
        }
    }

    @Test("only loopback IP redirects are accepted, and a bad one is never redirected to")
    func loopbackOnly() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.approve(user: "help@oauth.test"), forClient: "desk-ms")
            let challenge = pkcePair().challenge
            for redirect in [
                "https://login.example.com/callback", "http://localhost:49152/callback",
                "http://10.0.0.1:49152/callback", "http://127.0.0.1:49152/callback#frag",
            ] {
                let answer = try await OAuthHTTP.get(
                    Self.authorizeURL(server, redirect: redirect, challenge: challenge))
                #expect(answer.status == 400, "\(redirect)")
                #expect(answer.headers.first(name: "Location") == nil, "\(redirect)")
            }
            let ipv6 = try await OAuthHTTP.get(
                Self.authorizeURL(server, redirect: "http://[::1]:50000/cb", challenge: challenge))
            #expect(ipv6.status == 302)
        }
    }

    @Test("a denial, a missing challenge and a bad method come back as errors on the redirect")
    func redirectErrors() async throws {
        try await withOAuthServer { server in
            let challenge = pkcePair().challenge
            server.setAuthorizationDecision(.deny, forClient: "desk-ms")
            let denied = try await OAuthHTTP.get(Self.authorizeURL(server, challenge: challenge, state: "xyz"))
            #expect(denied.status == 302)
            #expect(denied.locationQuery["error"] == "access_denied")
            #expect(denied.locationQuery["state"] == "xyz")
            #expect(denied.locationQuery["error_description"]?.hasPrefix("AADSTS65004: ") == true)

            server.setAuthorizationDecision(.approve(user: "help@oauth.test"), forClient: "desk-ms")
            let noPKCE = try await OAuthHTTP.get(Self.authorizeURL(server, challenge: nil, method: nil))
            #expect(noPKCE.locationQuery["error"] == "invalid_request")
            let badMethod = try await OAuthHTTP.get(Self.authorizeURL(server, challenge: challenge, method: "S512"))
            #expect(badMethod.locationQuery["error"] == "invalid_request")
        }
    }

    @Test("a confidential client authenticates by body or HTTP Basic; a missing or wrong secret is invalid_client")
    func confidentialClient() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.approve(user: "help@gmail.test"), forClient: "desk-google")
            func code() async throws -> String {
                let (verifier, challenge) = pkcePair()
                let answer = try await OAuthHTTP.get(
                    Self.authorizeURL(server, clientID: "desk-google", challenge: challenge)
                        .replacingOccurrences(
                            of: "https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All%20offline_access",
                            with: "https%3A%2F%2Fmail.google.com%2F"))
                let code = try #require(answer.locationQuery["code"])
                return code + " " + verifier
            }
            func form(_ codeAndVerifier: String) -> [(String, String)] {
                let parts = codeAndVerifier.split(separator: " ").map(String.init)
                return [
                    ("grant_type", "authorization_code"), ("code", parts[0]), ("code_verifier", parts[1]),
                    ("redirect_uri", Self.redirect),
                ]
            }
            let first = try await code()
            let noSecret = try await OAuthHTTP.post(server.tokenURL, form(first) + [("client_id", "desk-google")])
            #expect(noSecret.error == "invalid_client")
            let wrong = try await OAuthHTTP.post(
                server.tokenURL, form(first) + [("client_id", "desk-google"), ("client_secret", "nope")])
            #expect(wrong.status == 401)
            #expect(wrong.errorDescription == "Unauthorized")
            let basicWrong = try await OAuthHTTP.post(server.tokenURL, form(first), basic: ("desk-google", "nope"))
            #expect(basicWrong.headers.first(name: "WWW-Authenticate")?.hasPrefix("Basic") == true)
            let body = try await OAuthHTTP.post(
                server.tokenURL, form(first) + [("client_id", "desk-google"), ("client_secret", "g-secret")])
            #expect(body.status == 200)
            #expect(body.json["ext_expires_in"] == nil)  // Google style
            let basic = try await OAuthHTTP.post(
                server.tokenURL, form(try await code()), basic: ("desk-google", "g-secret"))
            #expect(basic.status == 200)

            // A public client must not send a secret (Entra ID AADSTS700025).
            let device = try await startDeviceFlow(server, clientID: "desk-ms", secret: "made-up")
            #expect(device.error == "invalid_client")
            #expect(device.errorDescription?.hasPrefix("AADSTS700025: ") == true)
        }
    }
}
