import Foundation
import Logging
import MailClients
import ServiceDesk

/// Links a new mailbox: checks what can be checked offline, then logs in once to learn where the
/// mailbox stands (IMAP UIDVALIDITY and UIDNEXT; POP3 the UIDLs present), so that only mail
/// arriving afterwards is new.
public struct MailboxLinker: Sendable {
    private let store: DeskStore
    private let logger: Logger

    public init(store: DeskStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// A linked channel with what the admin should know about it.
    public struct Linked: Sendable {
        public var channel: Channel
        public var warnings: [String]
    }

    /// Validates, connects, takes the watermark and stores the channel; for `.oauth2App`, with the grant of the
    /// admin's finished sign-in (its access token logs in, and the grant is stored with the channel).
    public func link(_ draft: ChannelDraft, grant: OAuthFlows.Grant? = nil) async throws -> Linked {
        try await store.validate(draft)
        let watermark = try await self.watermark(for: draft, accessToken: grant?.tokens.accessToken)
        let channel = try await store.linkChannel(
            draft, watermark: watermark, grant: grant.map { ($0.appId, $0.tokens) })
        return Linked(channel: channel, warnings: Self.warnings(for: draft, watermark: watermark))
    }

    /// Gives a linked channel a new grant (`channel reauthorize`), after its access token has logged in: the
    /// watermark stays, so nothing that arrived meanwhile is missed. A channel that logged in with a password or an
    /// external token becomes an OAuth 2.0 channel the same way, without unlinking.
    public func reauthorize(address: String, grant: OAuthFlows.Grant) async throws -> Channel {
        let channel = try await store.runnableChannel(address: address).channel
        guard channel.protocol != .lmtp else {
            throw DeskError(.invalid, "\(channel.address) is a push channel (LMTP): it has no login to authorize")
        }
        _ = try await login(
            channel.protocol, endpoint: MailServerEndpoint(channel: channel),
            credentials: .oauth2(username: channel.username, accessToken: grant.tokens.accessToken))
        return try await store.reauthorizeChannel(address: channel.address, appId: grant.appId, tokens: grant.tokens)
    }

    static func warnings(for draft: ChannelDraft, watermark: LinkWatermark) -> [String] {
        let advice = ProviderProfile.of(draft.provider, host: draft.host).oauthAdvice(for: draft.authMethod)
        return (advice.map { [$0] } ?? []) + protocolWarnings(for: draft, watermark: watermark)
    }

    private static func protocolWarnings(for draft: ChannelDraft, watermark: LinkWatermark) -> [String] {
        if draft.protocol == .lmtp {
            return [
                "Push delivery: mail reaches this address only when an MTA delivers it to postdesk serve --lmtp-listen."
            ]
        }
        guard draft.protocol == .pop3 else { return [] }
        let present = watermark.pop3UIDLs?.count ?? 0
        var warnings = [
            "POP3 deletes each message from the server once postdesk has stored it. The \(present) message(s) in the mailbox now are left alone; an empty inbox is the safe start."
        ]
        if ProviderProfile.of(draft.provider, host: draft.host) == .gmail {
            warnings.append(
                "Gmail serves archived mail over POP3 too, which would become requests; IMAP is recommended for Gmail (--protocol imap)."
            )
        }
        return warnings
    }

    private func watermark(for draft: ChannelDraft, accessToken: String?) async throws -> LinkWatermark {
        // Push delivery: every mail delivered after linking is new; there is no mailbox to look at.
        if draft.protocol == .lmtp { return LinkWatermark(uidValidity: nil, uidNext: nil) }
        let endpoint = MailServerEndpoint(
            host: draft.host, port: draft.port, tls: TLSMode(draft.tls), caFile: draft.caFile)
        let credentials: MailCredentials
        if let accessToken {
            credentials = .oauth2(username: draft.username, accessToken: accessToken)
        } else {
            credentials = try await MailboxCredentials.resolve(
                username: draft.username, secret: draft.password, method: draft.authMethod)
        }
        return try await login(draft.protocol, endpoint: endpoint, credentials: credentials)
    }

    /// Logs in and reads where the mailbox stands.
    private func login(_ mailProtocol: MailboxProtocol, endpoint: MailServerEndpoint, credentials: MailCredentials)
        async throws -> LinkWatermark
    {
        switch mailProtocol {
        case .imap:
            return try await IMAPClient.withConnection(to: endpoint, logger: logger) { connection in
                try await connection.login(credentials)
                let status = try await connection.select("INBOX")
                var uidNext = status.uidNext
                if uidNext == nil {
                    // Servers that omit UIDNEXT (RFC 3501 §6.3.1 makes it optional): highest UID + 1.
                    let all = try await connection.uidSearch("ALL")
                    uidNext = (all.max() ?? 0) + 1
                }
                return LinkWatermark(uidValidity: Int64(status.uidValidity), uidNext: uidNext.map(Int64.init))
            }
        case .pop3:
            return try await POP3Client.withConnection(to: endpoint, logger: logger) { pop3 in
                try await pop3.login(credentials)
                let present = try await pop3.uidl().map(\.uid)
                return LinkWatermark(uidValidity: nil, uidNext: nil, pop3UIDLs: present)
            }
        case .lmtp:
            return LinkWatermark(uidValidity: nil, uidNext: nil)
        }
    }
}
