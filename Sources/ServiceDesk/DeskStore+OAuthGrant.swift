import Foundation

extension DeskStore {
    // MARK: OAuth 2.0 grants

    /// The app named `name` with its client secret opened, for a flow or a refresh; not found names the list command.
    public func oauthApp(named name: String) async throws -> (app: OAuthApp, clientSecret: String?) {
        // Names compare without case, as the unique index on them does.
        guard
            let app = try await read({ db in
                try OAuthApp.fetchOne(db, sql: "SELECT * FROM oauthApp WHERE lower(name) = lower(?)", arguments: [name])
            })
        else {
            throw DeskError.notFound("no OAuth app named \(name); postdesk oauth app list shows them")
        }
        return (app, try app.secret.map { try secrets.open($0) })
    }

    /// The grant `owner` logs in with, its tokens opened; nil when it has none.
    public func oauthGrant(for owner: OAuthGrantOwner) async throws -> LiveOAuthGrant? {
        let found = try await read { db -> (OAuthGrantRow, OAuthApp)? in
            let condition = OAuthGrantRow.condition(owner: owner)
            guard
                let row = try OAuthGrantRow.fetchOne(
                    db, sql: "SELECT * FROM oauthGrant WHERE \(condition.sql)", arguments: condition.arguments),
                let app = try OAuthApp.fetchOne(db, id: row.appId)
            else { return nil }
            return (row, app)
        }
        guard let (row, app) = found else { return nil }
        return try opened(row, app: app)
    }

    /// Every grant that still works (no recorded failure): what the refresh loop keeps fresh.
    public func workingOAuthGrants() async throws -> [LiveOAuthGrant] {
        let rows = try await read { db -> [(OAuthGrantRow, OAuthApp)] in
            let apps = Dictionary(
                try OAuthApp.fetchAll(db, sql: "SELECT * FROM oauthApp").compactMap { app in app.id.map { ($0, app) } },
                uniquingKeysWith: { a, _ in a })
            return try OAuthGrantRow.fetchAll(db, sql: "SELECT * FROM oauthGrant WHERE failure IS NULL").compactMap {
                row in
                apps[row.appId].map { (row, $0) }
            }
        }
        return try rows.map { try opened($0.0, app: $0.1) }
    }

    /// What `status` shows of every grant, by owner.
    public func oauthGrantSummaries() async throws -> [OAuthGrantOwner: OAuthGrantSummary] {
        try await read { db in
            let names = Dictionary(
                try OAuthApp.fetchAll(db, sql: "SELECT * FROM oauthApp").compactMap { app in
                    app.id.map { ($0, app.name) }
                },
                uniquingKeysWith: { a, _ in a })
            var summaries: [OAuthGrantOwner: OAuthGrantSummary] = [:]
            for row in try OAuthGrantRow.fetchAll(db, sql: "SELECT * FROM oauthGrant") {
                summaries[row.owner] = OAuthGrantSummary(
                    owner: row.owner, appName: names[row.appId] ?? "?", grantedAt: row.grantedAt,
                    lastRefreshAt: row.lastRefreshAt, accessExpiresAt: row.accessExpiresAt,
                    refreshCount: row.refreshCount, failure: row.failure, failedAt: row.failedAt)
            }
            return summaries
        }
    }

    /// Saves a refresh: the new access token and, when the provider rotated it, the new refresh token, in one
    /// transaction, so a rotated token is never lost (RFC 6749 §6: the old one may stop working at once). Saved only
    /// while the grant still holds `usedRefreshToken`: a grant replaced meanwhile (`channel reauthorize`) is left as
    /// it is, and the answer is false.
    @discardableResult
    public func recordOAuthRefresh(
        grantId: Int64, usedRefreshToken: String, accessToken: String, rotatedRefreshToken: String?,
        accessExpiresAt: Date?, at now: Date = Date()
    ) async throws -> Bool {
        let sealedAccess = try secrets.seal(accessToken)
        let sealedRefresh = try rotatedRefreshToken.map { try secrets.seal($0) }
        return try await write { [secrets] db in
            guard var row = try OAuthGrantRow.fetchOne(db, id: grantId),
                try secrets.open(row.refreshToken) == usedRefreshToken
            else { return false }
            row.accessToken = sealedAccess
            row.accessExpiresAt = accessExpiresAt
            if let sealedRefresh { row.refreshToken = sealedRefresh }
            row.lastRefreshAt = now
            row.refreshCount += 1
            row.failure = nil
            row.failedAt = nil
            try row.update(db)
            return true
        }
    }

    /// Records that the provider refused the grant (`invalid_grant` and the like): the grant stops being refreshed
    /// until it is replaced. As with a refresh, only while the grant still holds `usedRefreshToken`.
    @discardableResult
    public func recordOAuthFailure(grantId: Int64, usedRefreshToken: String, line: String, at now: Date = Date())
        async throws -> Bool
    {
        try await write { [secrets] db in
            guard var row = try OAuthGrantRow.fetchOne(db, id: grantId),
                try secrets.open(row.refreshToken) == usedRefreshToken
            else { return false }
            row.failure = String(line.prefix(2000))
            row.failedAt = now
            try row.update(db)
            return true
        }
    }

    /// Gives `owner` a new grant from a flow (a reauthorization, or the relay's first), replacing the one it had:
    /// the channel's watermark and everything else about it stay as they are.
    public func replaceOAuthGrant(owner: OAuthGrantOwner, appId: Int64, tokens: OAuthTokenSet, at now: Date = Date())
        async throws
    {
        let row = try sealedRow(owner: owner, appId: appId, tokens: tokens, at: now)
        try await write { db in try Self.replaceGrant(row, in: db) }
    }

    /// Gives the channel at `address` a new grant and makes it an OAuth 2.0 channel, in one transaction; its
    /// watermark, address and everything else stay, so no mail that arrived meanwhile is missed.
    public func reauthorizeChannel(address: String, appId: Int64, tokens: OAuthTokenSet, at now: Date = Date())
        async throws -> Channel
    {
        let emptySecret = try secrets.seal("")
        let sealed = try sealedRow(owner: .relay, appId: appId, tokens: tokens, at: now)
        return try await write { db in
            var row = sealed
            guard
                let channelId = try Int64.fetchOne(
                    db, sql: "SELECT channelId FROM channelAddress WHERE address = ?", arguments: [address.lowercased()]
                ),
                var channel = try Channel.fetchOne(db, id: channelId)
            else { throw DeskError.notFound("no channel with address \(address)") }
            if channel.authMethod != .oauth2App {
                channel.authMethod = .oauth2App
                channel.secret = emptySecret
                try channel.update(db)
            }
            (row.channelId, row.relay) = (channelId, false)
            try Self.replaceGrant(row, in: db)
            return channel
        }
    }

    /// The grant row a flow's tokens become, sealed.
    func sealedRow(owner: OAuthGrantOwner, appId: Int64, tokens: OAuthTokenSet, at now: Date) throws -> OAuthGrantRow {
        OAuthGrantRow(
            appId: appId, owner: owner, refreshToken: try secrets.seal(tokens.refreshToken),
            accessToken: try secrets.seal(tokens.accessToken), accessExpiresAt: tokens.accessExpiresAt, grantedAt: now)
    }

    static func replaceGrant(_ row: OAuthGrantRow, in db: any SQLSession) throws {
        if case .channel(let id) = row.owner {
            guard try Channel.fetchOne(db, id: id) != nil else { throw DeskError.notFound("channel \(id) is gone") }
        }
        guard try OAuthApp.fetchOne(db, id: row.appId) != nil else {
            throw DeskError.notFound("the OAuth app was removed meanwhile")
        }
        let owner = OAuthGrantRow.condition(owner: row.owner)
        try db.execute(sql: "DELETE FROM oauthGrant WHERE \(owner.sql)", arguments: owner.arguments)
        try row.insertRow(db)
    }

    private func opened(_ row: OAuthGrantRow, app: OAuthApp) throws -> LiveOAuthGrant {
        guard let id = row.id else { throw DeskError(.storage, "grant row without id") }
        return LiveOAuthGrant(
            id: id, owner: row.owner, app: app, clientSecret: try app.secret.map { try secrets.open($0) },
            refreshToken: try secrets.open(row.refreshToken),
            accessToken: try row.accessToken.map { try secrets.open($0) },
            accessExpiresAt: row.accessExpiresAt, grantedAt: row.grantedAt, lastRefreshAt: row.lastRefreshAt,
            refreshCount: row.refreshCount, failure: row.failure)
    }
}
