import Foundation
import Logging
import OAuthClient
import ServiceDesk
import ServiceLifecycle

/// Keeps every OAuth 2.0 grant's access token fresh and hands it to the logins: it refreshes ahead of expiry
/// (RFC 6749 §6), saves a rotated refresh token in the transaction that records the refresh, and runs at most one
/// refresh per grant at a time. A grant the provider refuses (`invalid_grant` and the like) is recorded with the
/// provider's words explained, and its owner is told, so the mailbox shows needs-attention until reauthorized.
public actor OAuthTokenKeeper: Service {
    private let store: DeskStore
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let makeClient: @Sendable (OAuthClientConfiguration) throws -> OAuthTokenClient
    /// The refresh running for each grant; a login that needs the same grant waits for it instead of starting another.
    private var refreshing: [Int64: Task<String, any Error>] = [:]
    /// The refresh loop's wait; cancelled to make it look at the grants at once.
    private var sleeper: Task<Void, Never>?
    /// Told when a grant stops working (the supervisor restarts that mailbox, which then shows why).
    private var onGrantFailed: (@Sendable (OAuthGrantOwner) async -> Void)?

    /// The longest time ahead of expiry a token is refreshed; a short-lived token is refreshed at 3/4 of its life.
    public static let refreshMargin: TimeInterval = 300
    /// The life assumed for an access token whose provider did not say (`expires_in` is only RECOMMENDED, §5.1).
    static let assumedLifetime: TimeInterval = 3600
    /// The refresh loop looks at least this often for grants added meanwhile.
    static let loopCeiling: Duration = .seconds(60)

    public init(
        store: DeskStore, logger: Logger, now: @escaping @Sendable () -> Date = { Date() },
        makeClient: @escaping @Sendable (OAuthClientConfiguration) throws -> OAuthTokenClient = {
            try OAuthTokenClient(configuration: $0)
        }
    ) {
        self.store = store
        self.logger = logger
        self.now = now
        self.makeClient = makeClient
    }

    /// Who to tell when a grant stops working.
    public func onGrantFailure(_ handler: @escaping @Sendable (OAuthGrantOwner) async -> Void) {
        onGrantFailed = handler
    }

    /// The access token to log in with now: the stored one while it is fresh, else a refreshed one. `forceRefresh`
    /// after the server refused the stored one (revoked early, or issued before a scope change).
    public func accessToken(for owner: OAuthGrantOwner, forceRefresh: Bool = false) async throws -> String {
        guard let grant = try await storedGrant(owner) else {
            throw EmailChannelError(
                .credentialUnavailable,
                "\(owner) logs in with OAuth 2.0 but has no grant; postdesk channel reauthorize ADDRESS makes one")
        }
        if let failure = grant.failure { throw EmailChannelError(.grantRefused, failure) }
        if !forceRefresh, let token = grant.accessToken, now() < Self.refreshDue(grant) { return token }
        return try await refresh(grant.id, owner: owner, force: forceRefresh)
    }

    /// When `grant` should be refreshed: ahead of expiry by the margin, or at 3/4 of a short token's life.
    static func refreshDue(_ grant: LiveOAuthGrant) -> Date {
        refreshDue(issuedAt: grant.lastRefreshAt ?? grant.grantedAt, expiresAt: grant.accessExpiresAt)
    }

    /// When a token issued at `issued` and valid until `expiresAt` (nil: unknown) should be refreshed.
    static func refreshDue(issuedAt issued: Date, expiresAt: Date?) -> Date {
        let expires = expiresAt ?? issued.addingTimeInterval(assumedLifetime)
        let life = max(0, expires.timeIntervalSince(issued))
        return expires.addingTimeInterval(-min(refreshMargin, life / 4))
    }

    /// Refreshes every working grant when it falls due, until cancelled: mailboxes that stay connected (IMAP IDLE)
    /// need no new token for days, but a refresh token left unused expires (Microsoft: 90 days), and `status`
    /// should show a grant that died.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.refreshLoop() }
    }

    private func refreshLoop() async {
        while !Task.isCancelled {
            var next = Date.distantFuture
            do {
                for grant in try await store.workingOAuthGrants() {
                    let due = Self.refreshDue(grant)
                    if due <= now() {
                        do {
                            _ = try await refresh(grant.id, owner: grant.owner, force: false)
                            // Its next due time comes from the stored refresh: look again shortly.
                            next = min(next, now())
                        } catch {
                            logger.warning(
                                "OAuth 2.0 refresh failed", metadata: ["owner": "\(grant.owner)", "error": "\(error)"])
                            // A transient failure is tried again after a pause, not in a tight loop.
                            next = min(next, now().addingTimeInterval(30))
                        }
                    } else {
                        next = min(next, due)
                    }
                }
            } catch {
                logger.warning("cannot read the OAuth 2.0 grants", metadata: ["error": "\(error)"])
            }
            let wait = min(max(next.timeIntervalSince(now()), 1), Double(Self.loopCeiling.components.seconds))
            let sleeper = Task { _ = try? await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
            self.sleeper = sleeper
            // The sleeper is a task of its own (so that `grantsChanged` can end it): a shutdown must end it too.
            await withTaskCancellationHandler {
                await sleeper.value
            } onCancel: {
                sleeper.cancel()
            }
            self.sleeper = nil
        }
    }

    /// Tells the refresh loop that a grant was added or replaced, so it plans with it now rather than at its next look.
    public func grantsChanged() {
        sleeper?.cancel()
    }

    private func storedGrant(_ owner: OAuthGrantOwner) async throws -> LiveOAuthGrant? {
        do {
            return try await store.oauthGrant(for: owner)
        } catch {
            throw EmailChannelError(.storage, "cannot read the OAuth 2.0 grant of \(owner)", underlying: error)
        }
    }

    /// One refresh per grant at a time: a caller that comes while one runs waits for its answer.
    private func refresh(_ grantId: Int64, owner: OAuthGrantOwner, force: Bool) async throws -> String {
        if let running = refreshing[grantId] { return try await running.value }
        let task = Task { try await self.performRefresh(owner, force: force) }
        refreshing[grantId] = task
        defer { refreshing[grantId] = nil }
        return try await task.value
    }

    /// Reads the grant again inside the single flight, so a refresh never sends a refresh token that an earlier one
    /// rotated away (that would be refused, and the grant taken for dead).
    private func performRefresh(_ owner: OAuthGrantOwner, force: Bool) async throws -> String {
        guard let grant = try await storedGrant(owner) else {
            throw EmailChannelError(.credentialUnavailable, "\(owner) no longer has an OAuth 2.0 grant")
        }
        if let failure = grant.failure { throw EmailChannelError(.grantRefused, failure) }
        if !force, let token = grant.accessToken, now() < Self.refreshDue(grant) { return token }
        let started = now()
        let tokens: OAuthTokens
        do {
            let client = try makeClient(OAuthClientConfiguration(app: grant.app, clientSecret: grant.clientSecret))
            tokens = try await client.refresh(refreshToken: grant.refreshToken)
        } catch let error as OAuthError {
            return try await refused(grant, error)
        }
        let expiresAt = tokens.expiresIn.map { started.addingTimeInterval(TimeInterval($0)) }
        let saved: Bool
        do {
            saved = try await store.recordOAuthRefresh(
                grantId: grant.id, usedRefreshToken: grant.refreshToken, accessToken: tokens.accessToken,
                rotatedRefreshToken: tokens.refreshToken, accessExpiresAt: expiresAt, at: started)
        } catch {
            // The provider may already have retired the old refresh token; nothing here can bring the new one back.
            logger.error(
                "an OAuth 2.0 refresh could not be saved", metadata: ["owner": "\(grant.owner)", "error": "\(error)"])
            throw EmailChannelError(.storage, "the refreshed OAuth 2.0 grant of \(grant.owner) could not be saved")
        }
        if !saved {
            // Replaced meanwhile (reauthorized): the new grant's own token serves.
            guard let current = try await storedGrant(grant.owner), let token = current.accessToken else {
                throw EmailChannelError(.credentialUnavailable, "the OAuth 2.0 grant of \(grant.owner) was replaced")
            }
            return token
        }
        logger.info(
            "OAuth 2.0 grant refreshed",
            metadata: [
                "owner": "\(grant.owner)",
                "rotated": "\(tokens.refreshToken.map { $0 != grant.refreshToken } ?? false)",
            ])
        return tokens.accessToken
    }

    /// Names the owner in the diagnosis's fix: the channel's address, or the relay's own command.
    private func describe(_ line: String, _ grant: LiveOAuthGrant) async -> String {
        let generic = "postdesk channel reauthorize ADDRESS"
        switch grant.owner {
        case .channel(let id):
            guard let address = try? await store.runnableChannel(id: id)?.channel.address else { return line }
            return line.replacingOccurrences(of: generic, with: "postdesk channel reauthorize \(address)")
        case .relay:
            return line.replacingOccurrences(
                of: "reauthorize the mailbox (\(generic))",
                with: "sign in again for the relay (postdesk smtp set … --oauth-app \(grant.app.name))")
        }
    }

    /// A refresh the provider refused: a transient failure is retried with backoff; anything else is recorded, so
    /// the grant is not tried again until it is replaced, and the owner is told.
    private func refused(_ grant: LiveOAuthGrant, _ error: OAuthError) async throws -> String {
        let line = await describe(
            "the OAuth 2.0 grant (app \(grant.app.name)) could not be refreshed: \(error.diagnosis.line)", grant)
        guard !error.isTransient else { throw EmailChannelError(.credentialUnavailable, line, underlying: error) }
        logger.warning("OAuth 2.0 grant refused", metadata: ["owner": "\(grant.owner)", "error": "\(error)"])
        let recorded = try? await store.recordOAuthFailure(
            grantId: grant.id, usedRefreshToken: grant.refreshToken, line: line)
        if recorded == false, let current = try await storedGrant(grant.owner), current.failure == nil,
            let token = current.accessToken
        {
            // Replaced while this refresh ran (reauthorized): the old grant's refusal says nothing of the new one.
            return token
        }
        if let onGrantFailed { await onGrantFailed(grant.owner) }
        throw EmailChannelError(.grantRefused, line, underlying: error)
    }
}

extension OAuthClientConfiguration {
    /// The client configuration of a stored app registration.
    public init(app: OAuthApp, clientSecret: String?) {
        let style: OAuthProviderStyle =
            switch app.provider {
            case .microsoft: .microsoft
            case .google: .google
            case .custom: .custom
            }
        self.init(
            style: style, clientId: app.clientId, clientSecret: clientSecret, tokenURL: app.tokenURL,
            deviceAuthorizationURL: app.deviceAuthorizationURL, authorizationURL: app.authorizationURL,
            scopes: app.scopes, caFile: app.caFile)
    }
}
