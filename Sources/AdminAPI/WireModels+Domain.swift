import EmailChannel
import Foundation
import PostdeskWire
import ServiceDesk

// The wire models made from the store's records and the runtime's states, and read into them: the server's
// side of PostdeskWire, which knows neither.

extension OAuthAppView {
    init(_ app: OAuthApp) {
        self.init(
            name: app.name, provider: app.provider, clientId: app.clientId, tenant: app.tenant,
            authorizationURL: app.authorizationURL, tokenURL: app.tokenURL,
            deviceAuthorizationURL: app.deviceAuthorizationURL, scopes: app.scopes, caFile: app.caFile,
            secretSet: app.hasSecret, createdAt: app.createdAt, signIn: app.defaultSignIn)
    }
}

extension OAuthFlowProgressView {
    init(id: String, _ progress: OAuthFlows.Progress) {
        switch progress {
        case .waiting(let polls, let interval): self.init(id: id, state: .waiting, polls: polls, interval: interval)
        case .approved: self.init(id: id, state: .approved)
        case .failed(let line): self.init(id: id, state: .failed, error: line)
        }
    }
}

extension OAuthGrantView {
    init(_ summary: OAuthGrantSummary) {
        self.init(
            app: summary.appName, grantedAt: summary.grantedAt, lastRefreshAt: summary.lastRefreshAt,
            accessExpiresAt: summary.accessExpiresAt, refreshCount: summary.refreshCount, failure: summary.failure)
    }
}

extension OAuthAppBody {
    /// The registration this body describes, with a preset's endpoints and scopes filled in: the one reading of
    /// a body. A preset refuses what only `custom` takes, so that nothing the admin typed is silently ignored.
    func draft() throws -> OAuthAppDraft {
        if let preset = try ProviderProfile.oauth(provider, tenant: tenant) {
            let customOnly: [(Bool, String)] = [
                (authorizationURL != nil, "--authorization-url"), (tokenURL != nil, "--token-url"),
                (deviceAuthorizationURL != nil, "--device-authorization-url"), (!(scopes ?? []).isEmpty, "--scope"),
                (caFile != nil, "--ca-file"),
            ]
            let given = customOnly.filter(\.0).map(\.1)
            guard given.isEmpty else {
                throw DeskError(
                    .invalid,
                    "\(given.joined(separator: ", ")) \(given.count == 1 ? "is" : "are") only for --provider custom; "
                        + "the \(provider.rawValue) preset brings its own endpoints and scopes")
            }
            return OAuthAppDraft(
                name: name, provider: provider, clientId: clientId, clientSecret: clientSecret, tenant: preset.tenant,
                authorizationURL: preset.authorizationURL, tokenURL: preset.tokenURL,
                deviceAuthorizationURL: preset.deviceAuthorizationURL, scopes: preset.scopes, caFile: nil)
        }
        guard tenant == nil else { throw DeskError(.invalid, "--tenant is for --provider microsoft") }
        guard let tokenURL else { throw DeskError(.invalid, "a custom OAuth app needs --token-url") }
        return OAuthAppDraft(
            name: name, provider: provider, clientId: clientId, clientSecret: clientSecret, tenant: nil,
            authorizationURL: authorizationURL, tokenURL: tokenURL, deviceAuthorizationURL: deviceAuthorizationURL,
            scopes: scopes ?? [], caFile: caFile)
    }
}

extension ChannelView {
    init(_ channel: ServiceDesk.Channel, projectKey: String, warnings: [String]) {
        self.init(
            address: channel.address, project: projectKey, protocol: channel.protocol, provider: channel.provider,
            host: channel.host, port: channel.port, tls: channel.tls, username: channel.username,
            authMethod: channel.authMethod, extraAddresses: channel.extraAddresses, enabled: channel.enabled,
            linkedAt: channel.linkedAt, warnings: warnings)
    }
}

extension ChannelStatusView {
    init(_ status: ChannelStatus) {
        self.init(
            address: status.address, state: status.state, detail: status.detail, retryAt: status.retryAt,
            lastSuccessAt: status.lastSuccessAt, lastError: status.lastError, processedToday: status.processedToday)
    }
}

extension RelayStatusView {
    init(_ relay: RelayStatus, outbox: OutboxCounts) {
        self.init(
            state: relay.state, since: relay.since, lastDeliveryAt: relay.lastDeliveryAt, failures: relay.failures,
            retryAt: relay.retryAt, serverText: relay.diagnosis?.serverText, diagnosis: relay.diagnosis?.summary,
            fix: relay.diagnosis?.fix, cause: relay.diagnosis?.cause.rawValue,
            unrecordedDeliveries: relay.unrecordedDeliveries, pending: outbox.pending, due: outbox.due,
            failed: outbox.failed, oldestPendingAt: nil)
    }
}
