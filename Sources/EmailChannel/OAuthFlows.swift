import Foundation
import Logging
import MailClients
import OAuthClient
import ServiceDesk

/// The sign-ins in progress: the server runs each OAuth 2.0 flow the CLI starts (the client secret never leaves the
/// server), polls the token endpoint for a device flow (RFC 8628 §3.4), exchanges a browser flow's code with its PKCE
/// verifier (RFC 7636 §4.5), and holds the tokens until `channel add`, `channel reauthorize` or `smtp set` takes them.
public actor OAuthFlows {
    /// How the user signs in.
    public enum Kind: Sendable, Equatable {
        /// The device authorization grant: a code to enter at an address, on any device.
        case device
        /// Authorization code with PKCE, redirected to the CLI's loopback listener (RFC 8252 §7.3).
        case browser(redirectURI: String)
    }

    /// Where a flow stands.
    public enum Progress: Sendable, Equatable {
        /// Waiting for the user; `polls` token requests so far, `interval` seconds between them.
        case waiting(polls: Int, interval: Int)
        /// Signed in: the tokens wait to be taken.
        case approved
        /// Over without a grant (declined, expired, refused), in one line with the fix.
        case failed(String)
    }

    /// What the CLI shows to start a flow.
    public struct Started: Sendable, Equatable {
        public var id: String
        public var appName: String
        /// The device flow's code and address; nil for a browser flow.
        public var device: DeviceAuthorization?
        /// The browser flow's address to open, and the `state` it carries; nil for a device flow.
        public var authorizationURL: String?
        public var state: String?
        public var expiresAt: Date
    }

    /// A finished flow's grant, as the store takes it.
    public struct Grant: Sendable, Equatable {
        public var appId: Int64
        public var appName: String
        public var tokens: OAuthTokenSet
    }

    private struct Flow {
        var appId: Int64
        var appName: String
        var client: OAuthTokenClient
        var kind: Kind
        var progress: Progress
        var tokens: OAuthTokenSet?
        /// When `tokens` were issued, for the refresh-due time of a short-lived access token.
        var issuedAt: Date?
        var pkce: PKCE?
        var state: String?
        var expiresAt: Date
        var poller: Task<Void, Never>?
    }

    private let store: DeskStore
    private let logger: Logger
    private let makeClient: @Sendable (OAuthClientConfiguration) throws -> OAuthTokenClient
    private var flows: [String: Flow] = [:]
    /// How long a browser flow waits for its code, and an approved flow for its tokens to be taken.
    static let browserLifetime: TimeInterval = 15 * 60
    /// At most this many flows at once: each holds a poller, and nothing else limits how many a script starts.
    static let limit = 64

    public init(
        store: DeskStore, logger: Logger,
        makeClient: @escaping @Sendable (OAuthClientConfiguration) throws -> OAuthTokenClient = {
            try OAuthTokenClient(configuration: $0)
        }
    ) {
        self.store = store
        self.logger = logger
        self.makeClient = makeClient
    }

    /// Starts a sign-in with the app named `appName`.
    public func start(appName: String, kind: Kind, loginHint: String?) async throws -> Started {
        prune()
        guard flows.count < Self.limit else {
            throw DeskError(.conflict, "\(Self.limit) sign-ins are already in progress; finish or wait for those first")
        }
        let (app, secret) = try await store.oauthApp(named: appName)
        guard let appId = app.id else { throw DeskError(.storage, "app row without id") }
        let client: OAuthTokenClient
        do {
            client = try makeClient(OAuthClientConfiguration(app: app, clientSecret: secret))
        } catch let error as OAuthError {
            throw DeskError(.invalid, "OAuth app \(app.name): \(error.diagnosis.line)")
        }
        let id = Self.makeId()
        switch kind {
        case .device:
            guard app.deviceAuthorizationURL != nil else {
                throw DeskError(
                    .invalid,
                    "OAuth app \(app.name) has no device authorization endpoint; sign in with --browser instead")
            }
            let device: DeviceAuthorization
            do {
                device = try await client.startDeviceAuthorization(loginHint: loginHint)
            } catch {
                throw DeskError(.upstream, "the device sign-in could not start: \(error.diagnosis.line)")
            }
            let expiresAt = Date().addingTimeInterval(TimeInterval(device.expiresIn))
            var flow = Flow(
                appId: appId, appName: app.name, client: client, kind: kind,
                progress: .waiting(polls: 0, interval: device.interval), expiresAt: expiresAt)
            flow.poller = Task { await self.poll(id, client: client, device: device) }
            flows[id] = flow
            return Started(
                id: id, appName: app.name, device: device, authorizationURL: nil, state: nil, expiresAt: expiresAt)
        case .browser(let redirectURI):
            guard app.authorizationURL != nil else {
                throw DeskError(
                    .invalid,
                    "OAuth app \(app.name) has no authorization endpoint; sign in without --browser (device flow)")
            }
            let pkce = PKCE.generate()
            let state = makeOAuthState()
            let url: String
            do {
                url = try client.authorizationRequestURL(
                    redirectURI: redirectURI, state: state, pkce: pkce, loginHint: loginHint)
            } catch {
                throw DeskError(.invalid, error.diagnosis.line)
            }
            let expiresAt = Date().addingTimeInterval(Self.browserLifetime)
            flows[id] = Flow(
                appId: appId, appName: app.name, client: client, kind: kind, progress: .waiting(polls: 0, interval: 0),
                pkce: pkce, state: state, expiresAt: expiresAt)
            return Started(
                id: id, appName: app.name, device: nil, authorizationURL: url, state: state, expiresAt: expiresAt)
        }
    }

    /// Where the flow `id` stands.
    public func progress(_ id: String) throws -> Progress {
        prune()
        guard let flow = flows[id] else { throw Self.unknown(id) }
        return flow.progress
    }

    /// A browser flow's redirect came back to the CLI: checks `state` (RFC 6749 §10.12) and exchanges the code.
    public func submitCode(_ id: String, code: String, state: String) async throws -> Progress {
        guard let flow = flows[id], case .browser(let redirectURI) = flow.kind, let pkce = flow.pkce else {
            throw Self.unknown(id)
        }
        guard case .waiting = flow.progress else { return flow.progress }
        guard state == flow.state else {
            throw DeskError(.invalid, "the redirect's state does not match this sign-in; start it again")
        }
        flows[id]?.progress = .waiting(polls: 1, interval: 0)
        let progress: Progress
        do {
            let tokens = try await flow.client.exchangeAuthorizationCode(code, redirectURI: redirectURI, pkce: pkce)
            progress = finish(id, tokens)
        } catch {
            progress = .failed("the sign-in failed: \(error.diagnosis.line)")
        }
        flows[id]?.progress = progress
        return progress
    }

    /// The grant of an approved flow, left in place until `complete` (a link that fails can be tried again). An
    /// access token past its refresh-due time (the admin took a while, or the provider issues short tokens) is
    /// refreshed first, by the token keeper's rule, so the login that follows does not present an expired one.
    public func grant(_ id: String) async throws -> Grant {
        let (flow, tokens) = try approved(id)
        let due = OAuthTokenKeeper.refreshDue(issuedAt: flow.issuedAt ?? Date(), expiresAt: tokens.accessExpiresAt)
        if Date() >= due { return try await renewedGrant(id) }
        return Grant(appId: flow.appId, appName: flow.appName, tokens: tokens)
    }

    /// The grant of an approved flow with a new access token from its refresh token (kept rotated when the provider
    /// rotates it): for a login that refused the one it had.
    public func renewedGrant(_ id: String) async throws -> Grant {
        let (flow, tokens) = try approved(id)
        let issued = Date()
        let fresh: OAuthTokens
        do {
            fresh = try await flow.client.refresh(refreshToken: tokens.refreshToken)
        } catch {
            throw DeskError(.invalid, Self.failure(error))
        }
        let renewed = OAuthTokenSet(
            accessToken: fresh.accessToken, refreshToken: fresh.refreshToken ?? tokens.refreshToken,
            accessExpiresAt: fresh.expiresIn.map { issued.addingTimeInterval(TimeInterval($0)) })
        flows[id]?.tokens = renewed
        flows[id]?.issuedAt = issued
        return Grant(appId: flow.appId, appName: flow.appName, tokens: renewed)
    }

    /// Runs `body` (a login, then storing the grant) with the flow's grant; when the mail server refuses its access
    /// token (it can expire between the sign-in and the login), once more with a renewed one.
    public nonisolated func withFreshGrant<T: Sendable>(
        _ id: String, _ body: @Sendable (Grant) async throws -> T
    ) async throws -> T {
        let grant = try await self.grant(id)
        do {
            return try await body(grant)
        } catch let error as MailClientError where error.code == .authenticationFailed && error.oauthFailure != nil {
            logger.info(
                "the OAuth 2.0 access token was refused at login; renewing it once", metadata: ["flow": "\(id)"])
            return try await body(try await renewedGrant(id))
        }
    }

    private func approved(_ id: String) throws -> (Flow, OAuthTokenSet) {
        prune()
        guard let flow = flows[id] else { throw Self.unknown(id) }
        switch flow.progress {
        case .approved:
            guard let tokens = flow.tokens else { throw Self.unknown(id) }
            return (flow, tokens)
        case .waiting:
            throw DeskError(.conflict, "sign-in \(id) is not finished yet")
        case .failed(let line):
            throw DeskError(.invalid, line)
        }
    }

    /// Forgets a flow: its grant was stored, or the CLI gave up.
    public func complete(_ id: String) {
        flows[id]?.poller?.cancel()
        flows[id] = nil
    }

    private func poll(_ id: String, client: OAuthTokenClient, device: DeviceAuthorization) async {
        let progress: Progress
        do {
            let tokens = try await client.pollDeviceAuthorization(device) { event in
                Task { await self.record(event, for: id) }
            }
            progress = finish(id, tokens)
        } catch is CancellationError {
            return
        } catch let error as OAuthError {
            progress = .failed(Self.failure(error))
        } catch {
            progress = .failed("the sign-in failed: \(error)")
        }
        flows[id]?.progress = progress
        logger.info("OAuth 2.0 sign-in ended", metadata: ["flow": "\(id)", "approved": "\(progress == .approved)"])
    }

    private func record(_ event: DevicePollEvent, for id: String) {
        guard case .waiting(let polls, let interval)? = flows[id]?.progress else { return }
        switch event {
        case .pending(let count): flows[id]?.progress = .waiting(polls: max(polls, count), interval: interval)
        case .slowDown(let newInterval): flows[id]?.progress = .waiting(polls: polls + 1, interval: newInterval)
        }
    }

    /// Approved, or failed when the provider gave no refresh token: without one the grant dies with its first token.
    private func finish(_ id: String, _ tokens: OAuthTokens) -> Progress {
        guard let refreshToken = tokens.refreshToken, !refreshToken.isEmpty else {
            return .failed(
                "the provider granted access but no refresh token, so postdesk could not keep the access alive; add the offline_access scope (Microsoft) or check the app's scopes, then sign in again"
            )
        }
        let issued = Date()
        flows[id]?.tokens = OAuthTokenSet(
            accessToken: tokens.accessToken, refreshToken: refreshToken,
            accessExpiresAt: tokens.expiresIn.map { issued.addingTimeInterval(TimeInterval($0)) })
        flows[id]?.issuedAt = issued
        flows[id]?.expiresAt = Date().addingTimeInterval(Self.browserLifetime)
        return .approved
    }

    static func failure(_ error: OAuthError) -> String {
        switch error.kind {
        case .accessDenied: "the sign-in was declined: \(error.diagnosis.line)"
        case .expiredToken: "the code expired before anyone signed in with it; start again"
        default: "the sign-in failed: \(error.diagnosis.line)"
        }
    }

    private func prune() {
        let now = Date()
        for (id, flow) in flows where flow.expiresAt < now {
            flow.poller?.cancel()
            flows[id] = nil
        }
    }

    private static func unknown(_ id: String) -> DeskError {
        DeskError(.notFound, "no sign-in \(id) is in progress (it finished, expired, or the server restarted)")
    }

    private static func makeId() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
