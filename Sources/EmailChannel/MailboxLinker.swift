import Foundation
import Logging
import MailClients
import ServiceDesk

/// Links a new mailbox: checks what can be checked offline, then logs in once to learn where the
/// mailbox stands (IMAP UIDVALIDITY and UIDNEXT), so that only mail arriving afterwards is new.
public struct MailboxLinker: Sendable {
    private let store: DeskStore
    private let logger: Logger

    public init(store: DeskStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Validates, connects, takes the watermark and stores the channel.
    public func link(_ draft: ChannelDraft) async throws -> Channel {
        try await store.validate(draft)
        let watermark = try await self.watermark(for: draft)
        return try await store.linkChannel(draft, watermark: watermark)
    }

    private func watermark(for draft: ChannelDraft) async throws -> LinkWatermark {
        let endpoint = MailServerEndpoint(
            host: draft.host, port: draft.port, tls: TLSMode(draft.tls), caFile: draft.caFile)
        let credentials = MailCredentials(username: draft.username, password: draft.password)
        switch draft.protocol {
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
                await connection.logout()
                return LinkWatermark(uidValidity: Int64(status.uidValidity), uidNext: uidNext.map(Int64.init))
            }
        case .pop3:
            throw DeskError(.invalid, "POP3 channels are not supported yet")
        }
    }
}
