import AdminAPI
import ArgumentParser
import Foundation
import PostdeskWire

struct ChannelVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Send a test email to a channel through the SMTP relay and wait until it becomes a test request.",
        discussion: """
            A mailbox channel (IMAP, POP3) must fetch it from its mailbox. A push channel (--protocol lmtp) has no
            mailbox to log into: the MTA behind the relay must deliver it over LMTP to this server's --lmtp-listen.

            Example:
              postdesk channel verify help@desk.test
            """)
    @OptionGroup var options: AdminOptions
    @Argument(help: "The channel's address.") var address: String
    @Option(help: "Seconds to wait for the test request.") var timeout: Int = 120

    func run() async throws {
        let address = self.address.lowercased()
        let channels = try await admin {
            try await options.client.call(.GET, "/v1/channels", body: String?.none, as: [ChannelView].self)
        }
        let isPush =
            channels.first { $0.address == address || $0.extraAddresses.contains(address) }?.protocol == .lmtp
        let path = "/v1/channels/\(address)/verify"
        let started = try await admin {
            try await options.client.call(.POST, path, body: String?.none, as: VerificationView.self)
        }
        // The server refuses a push channel when it runs no --lmtp-listen; here it has a listener.
        let listener = started.mailbox?.detail.map { " (\($0))" } ?? ""
        if isPush {
            say(
                "\(address) is a push channel (LMTP): there is no mailbox to log into. This checks that mail to \(address), "
                    + "sent through the SMTP relay, is routed to this channel over LMTP, into this server's "
                    + "--lmtp-listen\(listener), and becomes a test request.")
        }
        let token = started.verification.token
        guard let reply = started.verification.sendReply else {
            fail(
                started,
                "the SMTP relay did not accept the test email: \(started.verification.sendError ?? "unknown error")")
        }
        say(
            "✓ Sent a test email to \(address) through the relay (it said: \(reply.trimmingCharacters(in: .whitespacesAndNewlines)))"
        )
        let deadline = ContinuousClock.now + .seconds(max(timeout, 1))
        var lastReport = ContinuousClock.now
        var latest = started
        while ContinuousClock.now < deadline {
            latest = try await admin {
                try await options.client.call(
                    .GET, "/v1/verifications/\(token)", body: String?.none, as: VerificationView.self)
            }
            if let key = latest.verification.requestKey {
                if options.json { return printJSON(try AdminJSONOutput.encode(latest)) }
                say(
                    isPush
                        ? "✓ It arrived over LMTP at this server's listener and became test request \(key)"
                        : "✓ It came back through the mailbox and became test request \(key)")
                print(key)
                return
            }
            if ContinuousClock.now - lastReport >= .seconds(5) {
                lastReport = ContinuousClock.now
                if isPush {
                    say("… waiting for the MTA to deliver it over LMTP\(listener)")
                } else {
                    let state = latest.mailbox.map { "mailbox \($0.state)" } ?? "mailbox not running"
                    say("… waiting for it to arrive (\(state))")
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
        var reason = "the relay accepted the test email but it did not come back as a request within \(timeout) s"
        if isPush {
            reason +=
                "; \(address) is a push channel, with no mailbox to log into: check that the MTA routes \(address) "
                + "over LMTP to this server's --lmtp-listen\(listener) (postdesk log shows what arrived, the MTA's "
                + "queue and log what it did with the mail)"
        } else if let mailbox = latest.mailbox {
            if mailbox.state.isFailing {
                reason +=
                    "; the mailbox cannot be read: \(mailbox.detail ?? mailbox.lastError ?? mailbox.state.rawValue)"
            } else {
                reason +=
                    "; the mailbox is \(mailbox.state): check that mail to \(address) is delivered to this mailbox (postdesk log shows what arrived)"
            }
        } else {
            reason += "; the mailbox is not running (is the channel enabled?)"
        }
        fail(latest, reason)
    }

    private func say(_ line: String) {
        if !options.json { print(line) }
    }

    private func fail(_ view: VerificationView, _ reason: String) -> Never {
        if options.json, let data = try? AdminJSONOutput.encode(view) { printJSON(data) }
        printError("verification failed: " + reason)
        Foundation.exit(1)
    }
}
