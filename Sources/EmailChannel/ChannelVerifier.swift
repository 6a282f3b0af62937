import Foundation
import Logging
import MailClients
import MailMessage
import ServiceDesk

/// `channel verify`: sends a test email to a channel's address through the SMTP relay; the
/// mailbox picks it up like any mail (or, for a push channel, the MTA delivers it over LMTP) and
/// the router turns it into a test request, which proves the whole path (relay → mailbox or
/// LMTP → postdesk) works.
public struct ChannelVerifier: Sendable {
    /// The header that marks a test email; its token ties it to one verification.
    public static let header = "X-Postdesk-Verify"

    private let store: DeskStore
    private let logger: Logger

    /// Gives the relay's access token when postdesk holds its OAuth 2.0 grant.
    private let tokenKeeper: OAuthTokenKeeper?

    public init(store: DeskStore, tokenKeeper: OAuthTokenKeeper? = nil, logger: Logger) {
        self.tokenKeeper = tokenKeeper
        self.store = store
        self.logger = logger
    }

    /// Sends the test email and returns the verification's state (with the relay's answer). `pushDelivery` is what
    /// this server's LMTP listener is (`ChannelSupervisor.pushDelivery`), nil when it runs no `--lmtp-listen`.
    public func start(channelAddress: String, pushDelivery: String?) async throws -> VerificationState {
        // A push channel has no mailbox to log into: its mail can only arrive over LMTP, so without a listener the
        // test email could never come back, and nothing is sent.
        let target = try await store.runnableChannel(address: channelAddress).channel
        if target.protocol == .lmtp, pushDelivery == nil {
            throw DeskError(.invalid, Self.noListener(target.address))
        }
        guard let relay = try await store.relay() else {
            throw DeskError(.invalid, "no SMTP relay is set: run postdesk smtp set first")
        }
        let (token, channel) = try await store.startVerification(channelAddress: channelAddress)
        let settings = relay.settings
        let domain = channel.address.split(separator: "@").last.map(String.init) ?? "postdesk.invalid"
        let mail = OutgoingMail(
            from: MailAddress(name: "postdesk", address: settings.fromAddress),
            to: [MailAddress(name: nil, address: channel.address)],
            subject: "postdesk test request for \(channel.address)",
            text: """
                This test email was sent by `postdesk channel verify` through the SMTP relay \(settings.host).
                When it becomes a test request in the queue, the channel \(channel.address) works end to end\(
                    channel.protocol == .lmtp ? " (delivered to postdesk over LMTP)" : "").
                """,
            messageID: MailComposer.makeMessageID(domain: domain),
            extraHeaders: [(Self.header, token)])
        do {
            let receipt = try await relay.send(
                MailComposer.compose(mail), from: settings.fromAddress, to: [channel.address], keeper: tokenKeeper,
                logger: logger)
            try await store.recordVerificationSend(token: token, reply: receipt.serverText, error: nil)
        } catch let error as MailClientError {
            try await store.recordVerificationSend(token: token, reply: nil, error: MailboxDiagnosis.explain(error))
        }
        return try await store.verification(token: token)
    }

    /// Why a push channel cannot be verified on a server without `--lmtp-listen`, and what to do.
    static func noListener(_ address: String) -> String {
        "\(address) is a push channel (--protocol lmtp): there is no mailbox to log into, and its mail arrives only "
            + "when an MTA delivers it over LMTP to postdesk serve --lmtp-listen, which this server does not run; "
            + "start postdesk serve with --lmtp-listen HOST:PORT and route \(address) there by LMTP (nothing was sent)"
    }
}
