import Foundation
import OAuthClient
import OAuthTestServer

/// Scopes of the Microsoft-style registrations (Exchange Online's IMAP and SMTP, and a refresh token).
let msScopes = [
    "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access",
]
/// The Google registrations' scope.
let googleScopes = ["https://mail.google.com/"]
/// A secret that needs form encoding (space, plus, slash, non-ASCII) for the HTTP Basic test.
let customSecret = "c s+cret/é"

/// Runs `body` with a fresh OAuth test server on 127.0.0.1 and these app registrations: `desk-ms` (public,
/// Microsoft), `desk-ms-conf` (confidential, Microsoft), `desk-google` (confidential, Google), `desk-google-tv`
/// (public, Google), `desk-custom` (confidential, secret `customSecret`); the server is stopped afterwards.
func withOAuthServer<R>(
    _ configuration: OAuthTestServerConfiguration = .init(), _ body: (OAuthTestServer) async throws -> R
) async throws -> R {
    try await OAuthTestServer.with(
        configuration,
        registering: [
            OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: msScopes),
            OAuthClientRegistration(id: "desk-ms-conf", secret: "ms-secret", style: .microsoft, scopes: msScopes),
            OAuthClientRegistration(id: "desk-google", secret: "g-secret", style: .google, scopes: googleScopes),
            OAuthClientRegistration(id: "desk-google-tv", style: .google, scopes: googleScopes),
            OAuthClientRegistration(id: "desk-custom", secret: customSecret, style: .microsoft, scopes: msScopes),
        ], body)
}

/// A client configuration for one of the registrations of `withOAuthServer`.
func configuration(
    _ server: OAuthTestServer, _ style: OAuthProviderStyle, id: String, secret: String? = nil,
    scopes: [String]? = nil
) -> OAuthClientConfiguration {
    OAuthClientConfiguration(
        style: style, clientId: id, clientSecret: secret, tokenURL: server.tokenURL,
        deviceAuthorizationURL: server.deviceAuthorizationURL, authorizationURL: server.authorizationURL,
        scopes: scopes ?? (style == .google ? googleScopes : msScopes))
}

/// Collects what `onEvent` reports (it is called from the polling task).
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [DevicePollEvent] = []

    /// Records one event.
    func append(_ event: DevicePollEvent) { lock.withLock { stored.append(event) } }

    /// Everything recorded so far.
    var events: [DevicePollEvent] { lock.withLock { stored } }
}

/// A clock for the device flow whose `sleep` returns at once: it moves its own time forward by the whole sleep and
/// the OAuth test server's clock by the sleep less `serverShortfalls[n]` for the n-th sleep (so a test provokes
/// `slow_down` by making the server see a shorter wait than the client made), or not at all without a server.
final class SteppedClock: Clock, @unchecked Sendable {
    /// A point of this clock's time: the distance from its start.
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var recorded: [Duration] = []
    private let server: OAuthTestClock?
    private let serverShortfalls: [Duration]

    /// A clock that moves `server` along (less the shortfalls), or only itself when `server` is nil.
    init(server: OAuthTestClock?, serverShortfalls: [Duration] = []) {
        self.server = server
        self.serverShortfalls = serverShortfalls
    }

    var now: Instant { lock.withLock { current } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        try Task.checkCancellation()
        let serverStep: Duration = lock.withLock {
            let step = max(.zero, current.duration(to: deadline))
            let shortfall = recorded.count < serverShortfalls.count ? serverShortfalls[recorded.count] : .zero
            recorded.append(step)
            current = current.advanced(by: step)
            return max(.zero, step - shortfall)
        }
        server?.advance(by: serverStep)
        await Task.yield()
    }

    /// How long each sleep was, in order.
    var sleeps: [Duration] { lock.withLock { recorded } }
}
