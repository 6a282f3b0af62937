// OAuthTestServer owns a small OAuth 2.0 authorization server on 127.0.0.1 for the tests (device flow, authorization
// code with PKCE, refresh with rotation, revocation, introspection). It holds no postdesk logic.

import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// A real OAuth 2.0 authorization server over HTTP on 127.0.0.1, with a Swift API for the test's side: register
/// clients, play the user who approves or denies, revoke grants, look at the tokens. See README.md for the RFCs.
///
/// ```swift
/// let server = try await OAuthTestServer.start()
/// defer { Task { await server.stop() } }
/// server.register(OAuthClientRegistration(id: "desk", scopes: ["imap"]))
/// ```
public final class OAuthTestServer: Sendable {
    /// The port on 127.0.0.1 (picked by the kernel when binding, so no other process can take it in between).
    public let port: Int
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    private let authority: OAuthAuthority
    private let group: ServiceGroup
    private let running: Task<Void, any Error>

    /// RFC 8628 §3.1 device authorization endpoint.
    public var deviceAuthorizationURL: String { baseURL + "/devicecode" }
    /// RFC 6749 §3.2 token endpoint.
    public var tokenURL: String { baseURL + "/token" }
    /// RFC 6749 §3.1 authorization endpoint.
    public var authorizationURL: String { baseURL + "/authorize" }
    /// RFC 7009 revocation endpoint.
    public var revocationURL: String { baseURL + "/revoke" }
    /// RFC 7662 introspection endpoint (what Dovecot's oauth2 passdb calls).
    public var introspectionURL: String { baseURL + "/introspect" }
    /// The configuration it was started with.
    public var configuration: OAuthTestServerConfiguration { authority.configuration }
    /// The server's clock (move it forward to expire tokens and codes).
    public var clock: OAuthTestClock { authority.configuration.clock }

    private init(
        port: Int, baseURL: String, authority: OAuthAuthority, group: ServiceGroup, running: Task<Void, any Error>
    ) {
        self.port = port
        self.baseURL = baseURL
        self.authority = authority
        self.group = group
        self.running = running
    }

    // MARK: Start and stop

    /// Runs `body` with a server that has `clients` registered, and stops it afterwards, also when `body` throws.
    public static func with<R>(
        _ configuration: OAuthTestServerConfiguration = .init(), registering clients: [OAuthClientRegistration],
        _ body: (OAuthTestServer) async throws -> R
    ) async throws -> R {
        let server = try await start(configuration)
        for client in clients { server.register(client) }
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Starts a server on a free port of 127.0.0.1 and returns once it accepts connections.
    public static func start(_ configuration: OAuthTestServerConfiguration = .init()) async throws -> OAuthTestServer {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        // The authority learns its address once the port is known; routes reach it through this box.
        let box = AuthorityBox()
        var logger = Logger(label: "OAuthTestServer")
        logger.logLevel = .error
        let app = Application(
            router: makeRouter(box),
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "OAuthTestServer"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: logger)
        // Test support: the server outlives this call, so it runs in a task that `stop()` ends and awaits.
        let running = Task {
            defer { portContinuation.finish() }
            try await group.run()
        }
        var port: Int?
        for await bound in ports {
            port = bound
            break
        }
        guard let port, port > 0 else {
            _ = await running.result
            throw OAuthTestServerError(description: "the OAuth test server did not start on 127.0.0.1")
        }
        let baseURL = "http://127.0.0.1:\(port)"
        let authority = OAuthAuthority(configuration: configuration, baseURL: baseURL)
        box.set(authority)
        return OAuthTestServer(port: port, baseURL: baseURL, authority: authority, group: group, running: running)
    }

    /// Stops the server and waits until its port is closed. Idempotent.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await running.result
    }

    // MARK: The test's side

    /// Registers (or replaces) an app registration.
    public func register(_ client: OAuthClientRegistration) {
        authority.register(client)
    }

    /// The user approves the device code `userCode` (any case, dashes optional) and signs in as `user`.
    public func approve(userCode: String, as user: String) throws {
        try authority.decide(userCode: userCode, approve: user)
    }

    /// The user denies the device code `userCode`; the next poll gets `access_denied`.
    public func deny(userCode: String) throws {
        try authority.decide(userCode: userCode, approve: nil)
    }

    /// The user codes still waiting for a decision, sorted.
    public func pendingUserCodes() -> [String] {
        authority.pendingUserCodes()
    }

    /// The polling interval a device code has now (it grows by 5 s with each `slow_down`).
    public func pollingInterval(userCode: String) -> Int? {
        authority.pollingInterval(userCode: userCode)
    }

    /// What the authorization endpoint does for `clientID` from now on; `nil` shows a sign-in page and no redirect.
    public func setAuthorizationDecision(_ decision: OAuthAuthorizationDecision?, forClient clientID: String) {
        authority.setDecision(decision, clientID: clientID)
    }

    /// Revokes every live grant of `user` ("password changed"): its refresh tokens get `invalid_grant`, its access
    /// tokens introspect as inactive. Returns how many grants were revoked.
    @discardableResult
    public func revokeGrants(of user: String, reason: OAuthRevocationReason = .passwordChanged) -> Int {
        authority.revokeGrants(of: user, reason: reason)
    }

    /// Issues tokens for `user` directly, as if a flow had just finished (for tests about what comes after).
    public func issueTokens(clientID: String, user: String, scopes: [String]? = nil) throws -> OAuthTokenSet {
        try authority.issueTokens(clientID: clientID, user: user, scopes: scopes)
    }

    /// The grants (and their current tokens) of `user`, or of everyone, oldest first.
    public func grants(of user: String? = nil) -> [OAuthGrantSnapshot] {
        authority.grantSnapshots(of: user)
    }

    /// How many refresh_token grants succeeded for `user`'s grants (or everyone's).
    public func refreshCount(of user: String? = nil) -> Int {
        grants(of: user).reduce(0) { $0 + $1.refreshCount }
    }

    /// Sets `expires_in` for access tokens issued from now on.
    public func setAccessTokenLifetime(seconds: Int) {
        authority.setAccessTokenLifetime(seconds)
    }

    /// How many introspection requests arrived (to prove Dovecot asked).
    public var introspectionCount: Int { authority.introspections }

    // MARK: HTTP

    private static let maximumBody = 64 * 1024

    private static func makeRouter(_ box: AuthorityBox) -> Router<BasicRequestContext> {
        let router = Router()
        let formPost: [(String, @Sendable (OAuthAuthority, FormParameters, String?) -> OAuthHTTPReply)] = [
            ("devicecode", { $0.deviceAuthorization($1, authorization: $2) }),
            ("token", { $0.token($1, authorization: $2) }),
            ("revoke", { $0.revoke($1, authorization: $2) }),
            ("introspect", { $0.introspect($1, authorization: $2) }),
        ]
        for (path, handler) in formPost {
            router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                guard let authority = box.authority else { return response(.page("starting", status: 503)) }
                // RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1, RFC 8628 §3.1: form-encoded bodies.
                let contentType = request.headers[.contentType]?.lowercased() ?? ""
                guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
                    return response(
                        .failure(
                            .invalidRequest("Content-Type: application/x-www-form-urlencoded"),
                            style: authority.configuration.defaultStyle, at: authority.now))
                }
                var request = request
                let body = try await request.collectBody(upTo: maximumBody)
                let form = FormParameters(Substring(String(buffer: body)))
                return response(handler(authority, form, request.headers[.authorization]))
            }
        }
        router.get("authorize") { request, _ -> Response in
            guard let authority = box.authority else { return response(.page("starting", status: 503)) }
            return response(authority.authorize(FormParameters(Substring(request.uri.query ?? ""))))
        }
        router.get("device") { request, _ -> Response in
            guard let authority = box.authority else { return response(.page("starting", status: 503)) }
            return response(authority.verificationPage(FormParameters(Substring(request.uri.query ?? ""))))
        }
        return router
    }

    private static func response(_ reply: OAuthHTTPReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        for (name, value) in reply.headers {
            if let field = HTTPFields.Element.Name(name) { headers[field] = value }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}

/// Hands the routes the authority once the server knows its own address.
private final class AuthorityBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: OAuthAuthority?

    var authority: OAuthAuthority? { lock.withLock { stored } }

    func set(_ authority: OAuthAuthority) { lock.withLock { stored = authority } }
}
