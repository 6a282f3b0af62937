import Foundation
import NIOHTTP1
import Testing

@testable import OAuthClient

@Suite("OAuthClient: what is sent, and answers no real authorization server gives")
struct HostileAnswerTests {
    /// A configuration pointing at the scripted server.
    static func configuration(
        _ server: ScriptedHTTPServer, _ style: OAuthProviderStyle = .custom, id: String = "desk",
        secret: String? = nil
    ) -> OAuthClientConfiguration {
        OAuthClientConfiguration(
            style: style, clientId: id, clientSecret: secret, tokenURL: server.baseURL + "/token",
            deviceAuthorizationURL: server.baseURL + "/devicecode", authorizationURL: server.baseURL + "/authorize",
            scopes: ["imap", "offline_access"])
    }

    /// Runs `body` with a scripted server answering every request with `reply` (nil: never answers).
    static func withScriptedServer<R>(
        _ reply: ScriptedHTTPServer.Reply?, _ body: (ScriptedHTTPServer) async throws -> R
    ) async throws -> R {
        let server = try await ScriptedHTTPServer.start { _ in reply }
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static let tokenAnswer = ScriptedHTTPServer.Reply.text(
        200, #"{"access_token":"at-1","token_type":"Bearer","expires_in":"3599","refresh_token":"rt-2"}"#)

    @Test("the request: a form POST with Accept: application/json; custom style sends the secret by HTTP Basic only")
    func customBasic() async throws {
        try await Self.withScriptedServer(Self.tokenAnswer) { server in
            let client = try OAuthTokenClient(
                configuration: Self.configuration(server, .custom, id: "desk:1", secret: "c s+cret/é"))
            let tokens = try await client.refresh(refreshToken: "rt 1/+")
            // A numeric string for expires_in is accepted.
            #expect(
                tokens == OAuthTokens(accessToken: "at-1", tokenType: "Bearer", expiresIn: 3599, refreshToken: "rt-2"))
            let request = try #require(server.requests.first)
            #expect(request.method == "POST")
            #expect(request.uri == "/token")
            #expect(request.headers["Content-Type"] == ["application/x-www-form-urlencoded"])
            #expect(request.headers["Accept"] == ["application/json"])
            // RFC 6749 §2.3.1: id and secret form-urlencoded, then joined with ":" and base64-encoded.
            let expected = "Basic " + Data("desk%3A1:c+s%2Bcret%2F%C3%A9".utf8).base64EncodedString()
            #expect(request.headers["Authorization"] == [expected])
            #expect(request.body == "grant_type=refresh_token&refresh_token=rt+1%2F%2B")
        }
    }

    @Test("Microsoft style sends client_id and client_secret in the body, and the scope with a refresh")
    func microsoftBody() async throws {
        try await Self.withScriptedServer(Self.tokenAnswer) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server, .microsoft, secret: "s3"))
            _ = try await client.refresh(refreshToken: "rt")
            let request = try #require(server.requests.first)
            #expect(request.headers["Authorization"].isEmpty)
            #expect(
                request.body
                    == "grant_type=refresh_token&refresh_token=rt&scope=imap+offline_access&client_id=desk&client_secret=s3"
            )
        }
    }

    @Test("a public client sends only client_id")
    func publicClient() async throws {
        try await Self.withScriptedServer(Self.tokenAnswer) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server, .google))
            _ = try await client.exchangeAuthorizationCode(
                "c1", redirectURI: "http://127.0.0.1:5/cb", pkce: PKCE(verifier: String(repeating: "v", count: 43)))
            let request = try #require(server.requests.first)
            #expect(request.headers["Authorization"].isEmpty)
            #expect(
                request.body
                    == "grant_type=authorization_code&code=c1&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Fcb&code_verifier="
                    + String(repeating: "v", count: 43) + "&client_id=desk")
        }
    }

    @Test("http to a host off this machine is refused before any request")
    func plainHTTPRefused() async throws {
        try await Self.withScriptedServer(Self.tokenAnswer) { server in
            for url in ["http://192.0.2.1/token", "http://login.microsoftonline.com/common/oauth2/v2.0/token"] {
                var settings = Self.configuration(server, .microsoft, secret: "s3")
                settings.tokenURL = url
                let error = #expect(throws: OAuthError.self) { try OAuthTokenClient(configuration: settings) }
                #expect(error?.kind == .invalidRequest)
                #expect(error?.diagnosis.summary.contains("only https") == true)
            }
            var device = Self.configuration(server)
            device.deviceAuthorizationURL = "http://10.0.0.1/devicecode"
            #expect(throws: OAuthError.self) { try OAuthTokenClient(configuration: device) }
            var authorize = Self.configuration(server)
            authorize.authorizationURL = "http://example.com/authorize"
            #expect(throws: OAuthError.self) { try OAuthTokenClient(configuration: authorize) }
            #expect(server.requests.isEmpty)
        }
    }

    @Test("an answer over 64 KiB is malformedResponse; one just under is read")
    func tooLarge() async throws {
        let padding = String(repeating: "x", count: 70_000)
        let huge = ScriptedHTTPServer.Reply.text(200, #"{"access_token":"a","pad":"\#(padding)"}"#)
        try await Self.withScriptedServer(huge) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.httpStatus == 200)
            #expect(error?.diagnosis.summary.contains("64 KiB") == true)
        }
        let fits = ScriptedHTTPServer.Reply.text(
            200, #"{"access_token":"a","pad":"\#(String(repeating: "x", count: 65_000))"}"#)
        try await Self.withScriptedServer(fits) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server))
            #expect(try await client.refresh(refreshToken: "rt").accessToken == "a")
        }
    }

    @Test("non-JSON names the status and the first 200 characters; JSON without access_token names its fields only")
    func malformed() async throws {
        let html = "<html>" + String(repeating: "proxy login page ", count: 50) + "</html>"
        try await Self.withScriptedServer(.text(200, html, contentType: "text/html")) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.diagnosis.summary.contains("HTTP 200") == true)
            #expect(error?.diagnosis.summary.contains("\"" + String(html.prefix(200)) + "\"") == true)
            #expect(error?.diagnosis.summary.contains(String(html.prefix(201))) == false)
        }
        let noAccess = ScriptedHTTPServer.Reply.text(200, #"{"refresh_token":"secret-rt","token_type":"Bearer"}"#)
        try await Self.withScriptedServer(noAccess) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.diagnosis.summary.contains("refresh_token, token_type") == true)
            #expect(error?.description.contains("secret-rt") == false)
        }
        try await Self.withScriptedServer(.text(400, #"["not", "an", "object"]"#)) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .malformedResponse)
            #expect(error?.httpStatus == 400)
        }
    }

    @Test("5xx and temporarily_unavailable are serverError and transient, with the provider's words kept")
    func serverErrors() async throws {
        try await Self.withScriptedServer(.text(500, "Internal Server Error", contentType: "text/plain")) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .serverError)
            #expect(error?.httpStatus == 500)
            #expect(error?.isTransient == true)
        }
        let busy = ScriptedHTTPServer.Reply.text(
            400, #"{"error":"temporarily_unavailable","error_description":"AADSTS90033: A transient error."}"#)
        try await Self.withScriptedServer(busy) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server, .microsoft))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .serverError)
            #expect(error?.isTransient == true)
            #expect(error?.diagnosis.aadstsCode == 90033)
            #expect(error?.errorDescription == "AADSTS90033: A transient error.")
        }
    }

    @Test("a refused connection and a server that never answers are transport errors that say which")
    func transport() async throws {
        let closed = try await ScriptedHTTPServer.start { _ in Self.tokenAnswer }
        let settings = Self.configuration(closed)
        await closed.stop()
        let refused = await #expect(throws: OAuthError.self) {
            // Within a 5 s deadline: a refusal must be reported as one, not retried until the deadline.
            try await OAuthTokenClient(configuration: settings, timeout: .seconds(5)).refresh(refreshToken: "rt")
        }
        #expect(refused?.kind == .transport)
        #expect(refused?.isTransient == true)
        #expect(refused?.diagnosis.summary.contains("could not connect") == true)

        try await Self.withScriptedServer(nil) { server in
            let client = try OAuthTokenClient(configuration: Self.configuration(server), timeout: .milliseconds(300))
            let error = await #expect(throws: OAuthError.self) { try await client.refresh(refreshToken: "rt") }
            #expect(error?.kind == .transport)
            #expect(error?.diagnosis.summary.contains("timeout") == true)
        }
    }

    @Test("device polling rides out a transient 503 and then gets the tokens")
    func pollingThroughA503() async throws {
        let answers = Answers([
            .text(503, "busy", contentType: "text/plain"),
            .text(400, #"{"error":"authorization_pending"}"#),
            Self.tokenAnswer,
        ])
        let server = try await ScriptedHTTPServer.start { _ in answers.next() }
        defer { Task { await server.stop() } }
        let client = try OAuthTokenClient(configuration: Self.configuration(server))
        let authorization = DeviceAuthorization(
            deviceCode: "dc", userCode: "BCDF-GHJK", verificationURI: "https://example.com/device", expiresIn: 600)
        let log = EventLog()
        let tokens = try await client.pollDeviceAuthorization(authorization, clock: SteppedClock(server: nil)) {
            log.append($0)
        }
        #expect(tokens.accessToken == "at-1")
        #expect(log.events == [.pending(polls: 2)])
        #expect(server.requests.count == 3)
        #expect(
            server.requests.first?.body
                == "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc&client_id=desk")
    }

    /// A self-signed CA certificate (no key is needed to load it as a trust root).
    static let caPEM = """
        -----BEGIN CERTIFICATE-----
        MIIBjTCCATOgAwIBAgIUcAyf8vL9Hq2qYrLdNVTT+2qdDccwCgYIKoZIzj0EAwIw
        GzEZMBcGA1UEAwwQcG9zdGRlc2sgdGVzdCBDQTAgFw0yNjEyMDExNzA3MTFaGA8y
        MTI2MTEwNzE3MDcxMVowGzEZMBcGA1UEAwwQcG9zdGRlc2sgdGVzdCBDQTBZMBMG
        ByqGSM49AgEGCCqGSM49AwEHA0IABHeHLgsDEXRBWmAyT8Yifh2Sj+ontiP4Id+f
        qVlDAQxWIjB4IeQbRftsXHB2k9eO42Y1fDgImVrBjQymCzACrcCjUzBRMB0GA1Ud
        DgQWBBT4focFwcMHMHjxc5qaSAH9nxB4rTAfBgNVHSMEGDAWgBT4focFwcMHMHjx
        c5qaSAH9nxB4rTAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQD2
        Jyy4z5w+hntluEgmW3PyoQEvf1SmOYPdXDhNejlZ/AIgaAMzCylQsSMgJvs82PXO
        FQygkwhBuiQu/01xGs//D1E=
        -----END CERTIFICATE-----
        """

    @Test("a CA file gets one HTTP client per path, kept for the process; a missing or empty one is refused")
    func caFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oauthclient-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = directory.appendingPathComponent("ca.pem").path
        try Self.caPEM.write(toFile: ca, atomically: true, encoding: .utf8)
        let first = try OAuthHTTPClients.shared.client(caFile: ca)
        #expect(try OAuthHTTPClients.shared.client(caFile: ca) === first)
        #expect(try OAuthHTTPClients.shared.client(caFile: nil) !== first)
        var settings = OAuthClientConfiguration(
            style: .microsoft, clientId: "x", tokenURL: "https://login.example.com/token", scopes: [], caFile: ca)
        #expect(try OAuthTokenClient(configuration: settings).configuration.caFile == ca)
        settings.caFile = directory.appendingPathComponent("missing.pem").path
        let missing = #expect(throws: OAuthError.self) { try OAuthTokenClient(configuration: settings) }
        #expect(missing?.kind == .invalidRequest)
        #expect(missing?.diagnosis.summary.contains("missing.pem") == true)
        let empty = directory.appendingPathComponent("empty.pem").path
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        settings.caFile = empty
        #expect(throws: OAuthError.self) { try OAuthTokenClient(configuration: settings) }
    }
}

/// Hands out scripted answers in order, the last one repeated.
final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: [ScriptedHTTPServer.Reply]

    init(_ answers: [ScriptedHTTPServer.Reply]) { remaining = answers }

    func next() -> ScriptedHTTPServer.Reply? {
        lock.withLock { remaining.count > 1 ? remaining.removeFirst() : remaining.first }
    }
}
