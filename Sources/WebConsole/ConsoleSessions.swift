import Foundation
import Hummingbird
import ServiceDesk

/// The signed-in agent of a request, with the session's CSRF token that every form must carry back.
struct SignedIn: Sendable {
    var agent: Agent
    var csrf: String
}

/// Sessions and CSRF tokens: a random cookie whose SHA-256 is the store's key (a stolen database holds no usable
/// session), and a per-session token compared in constant time on every form post.
struct ConsoleSessions: Sendable {
    static let cookieName = "postdesk_session"
    /// Before sign-in the form's CSRF token lives in a cookie of its own (double submit).
    static let loginCookieName = "postdesk_login"
    static let lifetime: TimeInterval = 12 * 3600

    let store: DeskStore
    let network: ConsoleNetwork

    /// 32 random bytes, base64url without padding (the store's own token maker, as for password links).
    static func randomToken() -> String { AgentToken.generate().token }

    static func hash(_ token: String) -> Data { AgentToken.hash(token) }

    /// Compares two tokens in time that depends only on their lengths.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }

    /// The agent signed in with this request's cookie, if the session is live and the agent not disabled.
    func signedIn(_ request: Request) async throws -> SignedIn? {
        guard let token = request.cookies[Self.cookieName]?.value, token.count <= 64, !token.isEmpty else {
            return nil
        }
        guard let session = try await store.session(tokenHash: Self.hash(token), now: Date()) else { return nil }
        return SignedIn(agent: session.agent, csrf: session.csrfToken)
    }

    /// Starts a session for `agent`: the cookie to set.
    func start(for agent: Agent, secure: Bool) async throws -> Cookie {
        let token = Self.randomToken()
        try await store.createSession(
            agentId: agent.id, tokenHash: Self.hash(token), csrfToken: Self.randomToken(),
            expiresAt: Date().addingTimeInterval(Self.lifetime))
        try? await store.deleteExpiredSessions(now: Date())
        return cookie(Self.cookieName, token, maxAge: Int(Self.lifetime), secure: secure)
    }

    /// Ends the request's session: the cookie that clears it.
    func end(_ request: Request, secure: Bool) async throws -> Cookie {
        if let token = request.cookies[Self.cookieName]?.value, token.count <= 64 {
            try await store.deleteSession(tokenHash: Self.hash(token))
        }
        return cookie(Self.cookieName, "", maxAge: 0, secure: secure)
    }

    /// HttpOnly, SameSite=Lax, Secure under HTTPS, for the whole console.
    func cookie(_ name: String, _ value: String, maxAge: Int, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

/// A limit on failed sign-ins: five per address and per client within 15 minutes, then refusals until the oldest
/// failure ages out. Memory stays bounded: old entries are dropped, and at most `capacity` keys are kept.
actor LoginThrottle {
    static let window: TimeInterval = 15 * 60
    static let allowed = 5
    static let capacity = 10_000
    private var failures: [String: [Date]] = [:]

    func isBlocked(_ keys: [String], now: Date = Date()) -> Bool {
        keys.contains { key in
            (failures[key] ?? []).filter { now.timeIntervalSince($0) < Self.window }.count >= Self.allowed
        }
    }

    func fail(_ keys: [String], now: Date = Date()) {
        if failures.count >= Self.capacity {
            failures = failures.filter { $0.value.contains { now.timeIntervalSince($0) < Self.window } }
            if failures.count >= Self.capacity { failures.removeAll() }
        }
        for key in keys {
            var list = (failures[key] ?? []).filter { now.timeIntervalSince($0) < Self.window }
            list.append(now)
            failures[key] = Array(list.suffix(Self.allowed))
        }
    }

    func succeed(_ keys: [String]) {
        for key in keys { failures[key] = nil }
    }
}
