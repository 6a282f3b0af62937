import AsyncHTTPClient
import Foundation
import NIOCore
import OAuthClient
import OAuthTestServer
import Testing

/// The test's browser: GETs without following redirects, so each hop is seen.
enum Browser {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        // A closed listener must show as a refused connection at once, not be retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// One GET: status, Location header and body.
    static func get(_ url: String) async throws -> (status: Int, location: String?, body: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers.first(name: "Location"), String(buffer: body))
    }

    /// `url` with the query parameter `name` set to `value` (to forge a redirect).
    static func replacing(_ name: String, with value: String, in url: String) throws -> String {
        var components = try #require(URLComponents(string: url))
        components.queryItems = (components.queryItems ?? []).map {
            $0.name == name ? URLQueryItem(name: name, value: value) : $0
        }
        return try #require(components.string)
    }
}

@Suite("OAuthClient: authorization code with PKCE through the loopback redirect listener (RFC 6749 §4.1, RFC 8252)")
struct AuthorizationCodeClientTests {
    @Test("the code comes back to the listener; a wrong state is answered 400 and ignored; the right one redeems")
    func codeWithPKCE() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.approve(user: "help@oauth.test"), forClient: "desk-ms")
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let listener = try await LoopbackRedirectListener.start()
            #expect(listener.redirectURI == "http://127.0.0.1:\(listener.port)/callback")
            let pkce = PKCE.generate()
            let state = makeOAuthState()
            let url = try client.authorizationRequestURL(
                redirectURI: listener.redirectURI, state: state, pkce: pkce, loginHint: "help@oauth.test")
            #expect(url.hasPrefix(server.authorizationURL + "?response_type=code&client_id=desk-ms&"))
            #expect(url.contains("code_challenge=\(pkce.challenge)&code_challenge_method=S256"))
            #expect(url.contains("login_hint=help%40oauth.test"))

            async let code = listener.waitForCode(state: state, timeout: .seconds(20))
            let authorize = try await Browser.get(url)
            #expect(authorize.status == 302)
            let redirect = try #require(authorize.location)
            #expect(redirect.hasPrefix(listener.redirectURI + "?"))

            let other = try await Browser.get("http://127.0.0.1:\(listener.port)/favicon.ico")
            #expect(other.status == 404)
            let forged = try await Browser.get(try Browser.replacing("state", with: "forged", in: redirect))
            #expect(forged.status == 400)
            let right = try await Browser.get(redirect)
            #expect(right.status == 200)
            #expect(right.body.contains("postdesk has the authorization; you can close this tab"))

            let received = try await code
            let tokens = try await client.exchangeAuthorizationCode(
                received, redirectURI: listener.redirectURI, pkce: pkce)
            #expect(server.grants(of: "help@oauth.test").first?.activeAccessTokens == [tokens.accessToken])
            #expect(tokens.refreshToken != nil)

            // It stopped listening after the right redirect.
            try await Task.sleep(for: .milliseconds(100))
            await #expect(throws: (any Error).self) { _ = try await Browser.get(listener.redirectURI) }
            await listener.close()

            // The code is single-use and bound to the verifier: a second redemption is refused (AADSTS54005).
            let again = await #expect(throws: OAuthError.self) {
                try await client.exchangeAuthorizationCode(received, redirectURI: listener.redirectURI, pkce: pkce)
            }
            #expect(again?.kind == .invalidGrant)
            #expect(again?.diagnosis.aadstsCode == 54005)
        }
    }

    @Test("a code redeemed with another verifier is invalidGrant with the PKCE diagnosis (AADSTS501481)")
    func wrongVerifier() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.approve(user: "help@oauth.test"), forClient: "desk-ms")
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let listener = try await LoopbackRedirectListener.start(path: "cb")
            let pkce = PKCE.generate()
            let state = makeOAuthState()
            let url = try client.authorizationRequestURL(redirectURI: listener.redirectURI, state: state, pkce: pkce)
            // The browser is faster than the CLI here: its redirect is held until the wait begins.
            let browser = Task { try await Browser.get(try #require(try await Browser.get(url).location)) }
            try await Task.sleep(for: .milliseconds(200))
            let code = try await listener.waitForCode(state: state, timeout: .seconds(20))
            #expect(try await browser.value.status == 200)
            let error = await #expect(throws: OAuthError.self) {
                try await client.exchangeAuthorizationCode(code, redirectURI: listener.redirectURI, pkce: .generate())
            }
            #expect(error?.kind == .invalidGrant)
            #expect(error?.diagnosis.aadstsCode == 501481)
            #expect(error?.diagnosis.summary.contains("PKCE") == true)
        }
    }

    @Test("error=access_denied on the redirect is thrown as accessDenied, read with its AADSTS code")
    func deniedRedirect() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.deny, forClient: "desk-ms")
            let client = try OAuthTokenClient(configuration: configuration(server, .microsoft, id: "desk-ms"))
            let listener = try await LoopbackRedirectListener.start()
            let state = makeOAuthState()
            let url = try client.authorizationRequestURL(
                redirectURI: listener.redirectURI, state: state, pkce: .generate())
            let code = Task { try await listener.waitForCode(state: state, timeout: .seconds(20)) }
            let redirect = try #require(try await Browser.get(url).location)
            #expect(redirect.contains("error=access_denied"))
            let page = try await Browser.get(redirect)
            #expect(page.status == 200)
            let error = await #expect(throws: OAuthError.self) { _ = try await code.value }
            #expect(error?.kind == .accessDenied)
            #expect(error?.errorCode == "access_denied")
            #expect(error?.diagnosis.aadstsCode == 65004)
            await listener.close()
        }
    }

    @Test("no redirect in time is expiredToken; close ends a wait with CancellationError")
    func timeoutAndClose() async throws {
        let listener = try await LoopbackRedirectListener.start()
        let error = await #expect(throws: OAuthError.self) {
            _ = try await listener.waitForCode(state: "s", timeout: .milliseconds(200))
        }
        #expect(error?.kind == .expiredToken)
        // The listener still listens after a timeout; a later wait can be ended by close.
        let waiting = Task { try await listener.waitForCode(state: "s", timeout: .seconds(20)) }
        try await Task.sleep(for: .milliseconds(100))
        await listener.close()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
    }

    @Test("Google style asks for offline access and consent; a confidential client redeems with its secret in the body")
    func googleConfidential() async throws {
        try await withOAuthServer { server in
            server.setAuthorizationDecision(.approve(user: "c@gmail.test"), forClient: "desk-google")
            let client = try OAuthTokenClient(
                configuration: configuration(server, .google, id: "desk-google", secret: "g-secret"))
            let listener = try await LoopbackRedirectListener.start()
            let pkce = PKCE.generate()
            let state = makeOAuthState()
            let url = try client.authorizationRequestURL(redirectURI: listener.redirectURI, state: state, pkce: pkce)
            #expect(url.contains("&access_type=offline&prompt=consent"))
            #expect(url.contains("scope=https%3A%2F%2Fmail.google.com%2F"))
            async let code = listener.waitForCode(state: state, timeout: .seconds(20))
            _ = try await Browser.get(try #require(try await Browser.get(url).location))
            let tokens = try await client.exchangeAuthorizationCode(
                try await code, redirectURI: listener.redirectURI, pkce: pkce)
            #expect(tokens.scope == "https://mail.google.com/")
            #expect(server.grants(of: "c@gmail.test").first?.clientID == "desk-google")
        }
    }
}
