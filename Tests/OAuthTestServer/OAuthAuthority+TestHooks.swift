import Foundation

extension OAuthAuthority {
    func register(_ client: OAuthClientRegistration) {
        lock.withLock { clients[client.id] = client }
    }

    /// The user approves a device code (RFC 8628 §3.3), as if at the verification address.
    func decide(userCode: String, approve user: String?) throws {
        try lock.withLock { () throws in
            guard let deviceCode = userCodes[Self.normalizedUserCode(userCode)],
                var device = deviceCodes[deviceCode]
            else { throw OAuthTestServerError(description: "no device authorization has user code \(userCode)") }
            guard case .pending = device.state else {
                throw OAuthTestServerError(description: "user code \(userCode) was already decided")
            }
            guard now < device.expiresAt else {
                throw OAuthTestServerError(description: "user code \(userCode) has expired")
            }
            device.state = user.map { .approved(user: $0) } ?? .denied
            deviceCodes[deviceCode] = device
        }
    }

    func pendingUserCodes() -> [String] {
        lock.withLock {
            deviceCodes.values.filter {
                if case .pending = $0.state { return now < $0.expiresAt }
                return false
            }.map(\.userCode).sorted()
        }
    }

    func pollingInterval(userCode: String) -> Int? {
        lock.withLock {
            userCodes[Self.normalizedUserCode(userCode)].flatMap { deviceCodes[$0]?.interval }
        }
    }

    func setDecision(_ decision: OAuthAuthorizationDecision?, clientID: String) {
        lock.withLock { decisions[clientID] = decision }
    }

    func revokeGrants(of user: String, reason: OAuthRevocationReason) -> Int {
        lock.withLock {
            let ids = grants.filter { $0.value.user == user && $0.value.revocation == nil }.map(\.key)
            for id in ids { grants[id]?.revocation = reason }
            return ids.count
        }
    }

    func issueTokens(clientID: String, user: String, scopes: [String]?) throws
        -> OAuthTokenSet
    {
        try lock.withLock { () throws in
            guard let client = clients[clientID] else {
                throw OAuthTestServerError(description: "no client \(clientID) is registered")
            }
            return createGrant(client: client, user: user, scopes: scopes ?? client.scopes).1
        }
    }

    func grantSnapshots(of user: String?) -> [OAuthGrantSnapshot] {
        lock.withLock {
            grants.filter { user == nil || $0.value.user == user }
                .sorted { $0.value.createdAt < $1.value.createdAt }
                .map { id, grant in
                    let live = grant.revocation == nil
                    return OAuthGrantSnapshot(
                        clientID: grant.clientID, user: grant.user, scopes: grant.scopes,
                        validRefreshTokens: live
                            ? refreshTokens.filter { $0.value.grantID == id && $0.value.valid }
                                .sorted { $0.value.issuedAt < $1.value.issuedAt }.map(\.key) : [],
                        activeAccessTokens: accessTokens.filter { $0.value.grantID == id && isActive($0.value) }
                            .sorted { $0.value.issuedAt < $1.value.issuedAt }.map(\.key),
                        refreshCount: grant.refreshCount,
                        isRevoked: !live)
                }
        }
    }

    func setAccessTokenLifetime(_ seconds: Int) {
        lock.withLock { accessTokenLifetime = seconds }
    }

    var introspections: Int { lock.withLock { introspectionCount } }
}
